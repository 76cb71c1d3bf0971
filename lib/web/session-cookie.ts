/**
 * Signed session cookie values (pure: no clock, no I/O).
 *
 *   v2.<sessionId>.<base64url(user:domain)>.<authToken>.<loginAt>.<issuedAt>.<expiresAt>.<mac>
 *   mac = base64url(HMAC-SHA256(secret, everything before ".<mac>"))
 *
 * Times are Unix seconds. The expiry is inside the MAC, so the browser's
 * Max-Age is never trusted (reference §7.2). `authToken` is the user's token
 * at her home server when she logged in; a password change replaces it there,
 * which ends the session (session-tokens.ts). Anything that does not verify
 * is reported as undefined, never as an error: a bad cookie means anonymous.
 * v1 cookies (no token) no longer verify: their users log in once more.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  readonly sessionId: number;
  /** `<user>:<domain>` */
  readonly userId: string;
  /** The user's auth token at her home server at login. */
  readonly authToken: string;
  /** When the user logged in; bounds how long renewals may go on. */
  readonly loginAt: number;
  /** When this cookie value was made; decides when to renew it. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

const VERSION = 'v2';
const FIELDS = 8;
const INTEGER_RE = /^(0|[1-9][0-9]{0,14})$/;
/** What a home server answers to `authtoken` (hex today), kept to cookie-safe characters. */
export const AUTH_TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function signSession(secret: Buffer, claims: SessionClaims): string {
  if (!AUTH_TOKEN_RE.test(claims.authToken)) throw new Error('auth token with characters a cookie cannot carry');
  const body = [
    VERSION,
    claims.sessionId,
    Buffer.from(claims.userId).toString('base64url'),
    claims.authToken,
    claims.loginAt,
    claims.issuedAt,
    claims.expiresAt,
  ].join('.');
  return body + '.' + mac(secret, body).toString('base64url');
}

export function verifySession(secret: Buffer, value: string, nowS: number): SessionClaims | undefined {
  const fields = value.split('.');
  if (fields.length !== FIELDS || fields[0] !== VERSION) return undefined;
  const body = value.slice(0, value.lastIndexOf('.'));
  const given = Buffer.from(fields[7]!, 'base64url');
  const expected = mac(secret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const [sessionId, loginAt, issuedAt, expiresAt] = [fields[1], fields[4], fields[5], fields[6]].map(toInteger);
  if (sessionId === undefined || loginAt === undefined || issuedAt === undefined || expiresAt === undefined) {
    return undefined;
  }
  if (expiresAt <= nowS) return undefined;
  const authToken = fields[3]!;
  return { sessionId, userId: Buffer.from(fields[2]!, 'base64url').toString(), authToken, loginAt, issuedAt, expiresAt };
}

function mac(secret: Buffer, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

function toInteger(text: string | undefined): number | undefined {
  return text !== undefined && INTEGER_RE.test(text) ? Number(text) : undefined;
}
