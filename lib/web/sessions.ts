/**
 * Sessions (issue 4 §2.3 and §3; reference §7.3): what a request's cookie
 * says about who is asking, and the cookies that login, logout and renewal send.
 *
 * Decision table for the `lc_session` cookie:
 *   absent                                   → anonymous (session id 0, no cookie is set)
 *   bad MAC, expired, revoked, or past the
 *   login's maximum age                      → anonymous, and the cookie is cleared
 *   valid, but the user's auth token has
 *   changed since login (a new password)     → anonymous, cleared, and the id revoked
 *   valid                                    → that user; re-issued with the same id once
 *                                              RENEW_AFTER_S have passed since it was issued
 *
 * Anonymous visitors get no session: a session starts at login, so static
 * pages stay cacheable and anonymous traffic costs no SQLite write. Login
 * always takes a fresh id (revoking any previous one); logout revokes the id,
 * so a copied cookie dies with the logout and not only at its expiry.
 */
import type { ActiveSessions } from './active-sessions';
import { signSession, verifySession, type SessionClaims } from './session-cookie';
import type { SessionStore } from './session-store';
import type { SessionTokens } from './session-tokens';

export const SESSION_COOKIE = 'lc_session';
/** Idle time after which a session ends (OpenACS LoginTimeout): 8 hours. */
export const SESSION_IDLE_TIMEOUT_S = 8 * 3600;
/** However active, a login lasts at most this long (OpenACS SessionLifetime): 7 days. */
export const LOGIN_MAX_AGE_S = 7 * 24 * 3600;
/** Re-issue a valid cookie when it is this old (OpenACS SessionRenew): 5 minutes. */
export const RENEW_AFTER_S = 300;

export type AuthLevel = 'none' | 'ok';

export interface Session {
  /** 0 for anonymous visitors. */
  readonly sessionId: number;
  /** `<user>:<domain>`, or null for anonymous visitors. */
  readonly userId: string | null;
  readonly authLevel: AuthLevel;
}

export interface SessionOutcome {
  readonly session: Session;
  /** A Set-Cookie value to send with the response, if the cookie must change. */
  readonly setCookie?: string;
}

export const ANONYMOUS: Session = Object.freeze({ sessionId: 0, userId: null, authLevel: 'none' });
const NO_SESSION: SessionOutcome = Object.freeze({ session: ANONYMOUS });

export class SessionManager {
  readonly #store: SessionStore;
  readonly #secret: Buffer;
  readonly #active: ActiveSessions;
  readonly #tokens: SessionTokens;
  /** What follows Max-Age: `HttpOnly; SameSite=Lax`, plus `Secure` when the server speaks HTTPS. */
  readonly #attributes: string;

  /** `secure`: the server speaks HTTPS, so the cookie must never travel over plain HTTP. */
  constructor(store: SessionStore, secret: Buffer, active: ActiveSessions, tokens: SessionTokens, { secure = false } = {}) {
    this.#store = store;
    this.#secret = secret;
    this.#active = active;
    this.#tokens = tokens;
    this.#attributes = secure ? `${COOKIE_ATTRIBUTES}; Secure` : COOKIE_ATTRIBUTES;
  }

  /**
   * The session a request's cookie names. Without a session cookie (most
   * requests for pages and files) the answer needs no promise; with one,
   * the home server may have to be asked whether it still stands.
   */
  read(cookieHeader: string | undefined, nowMs: number): SessionOutcome | Promise<SessionOutcome> {
    const values = cookieValues(cookieHeader, SESSION_COOKIE);
    if (values.length === 0) return NO_SESSION;
    return this.#readCookies(values, nowMs);
  }

  async #readCookies(values: readonly string[], nowMs: number): Promise<SessionOutcome> {
    const nowS = Math.floor(nowMs / 1000);
    const claims = values.map((v) => this.#verify(v, nowS)).find((c) => c !== undefined);
    if (claims === undefined) return { session: ANONYMOUS, setCookie: this.#clearingCookie() };
    const session: Session = { sessionId: claims.sessionId, userId: claims.userId, authLevel: 'ok' };
    if (!(await this.#tokens.isCurrent(claims.userId, claims.authToken))) return this.logout(session, nowMs);
    this.#active.touch(claims.sessionId, nowMs);
    if (nowS - claims.issuedAt < RENEW_AFTER_S) return { session };
    return { session, setCookie: this.#cookie({ ...claims, issuedAt: nowS, expiresAt: expiry(claims.loginAt, nowS) }) };
  }

  /**
   * Start a session for `userId` with a new id; the caller has authenticated
   * the user, and `authToken` is her token at her home server at that time.
   */
  login(current: Session, userId: string, authToken: string, nowMs: number): Required<SessionOutcome> {
    this.#end(current, nowMs);
    const nowS = Math.floor(nowMs / 1000);
    const sessionId = this.#store.nextSessionId();
    this.#active.touch(sessionId, nowMs);
    const claims: SessionClaims = { sessionId, userId, authToken, loginAt: nowS, issuedAt: nowS, expiresAt: expiry(nowS, nowS) };
    return { session: { sessionId, userId, authLevel: 'ok' }, setCookie: this.#cookie(claims) };
  }

  /** Her authentication changed: her sessions must ask her home server again at their next request. */
  authChanged(userId: string): void {
    this.#tokens.forget(userId);
  }

  logout(current: Session, nowMs: number): Required<SessionOutcome> {
    this.#end(current, nowMs);
    return { session: ANONYMOUS, setCookie: this.#clearingCookie() };
  }

  #end(current: Session, nowMs: number): void {
    if (current.sessionId === 0) return;
    const nowS = Math.floor(nowMs / 1000);
    // Any cookie carrying this id was issued by now, so it expires within the idle timeout.
    this.#store.revoke(current.sessionId, nowS + SESSION_IDLE_TIMEOUT_S, nowS);
    this.#active.forget(current.sessionId);
  }

  #verify(value: string, nowS: number): SessionClaims | undefined {
    const claims = verifySession(this.#secret, value, nowS);
    if (claims === undefined || this.#store.isRevoked(claims.sessionId)) return undefined;
    return claims.loginAt + LOGIN_MAX_AGE_S > nowS ? claims : undefined;
  }

  #cookie(claims: SessionClaims): string {
    const maxAge = claims.expiresAt - claims.issuedAt;
    return `${SESSION_COOKIE}=${signSession(this.#secret, claims)}; Path=/; Max-Age=${maxAge}; ${this.#attributes}`;
  }

  #clearingCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; Max-Age=0; ${this.#attributes}`;
  }
}

const COOKIE_ATTRIBUTES = 'HttpOnly; SameSite=Lax';

function expiry(loginAtS: number, nowS: number): number {
  return Math.min(nowS + SESSION_IDLE_TIMEOUT_S, loginAtS + LOGIN_MAX_AGE_S);
}

/** Every value of cookie `name` in a Cookie header (browsers may send duplicates from other paths). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const out: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) out.push(pair.slice(eq + 1).trim());
  }
  return out;
}
