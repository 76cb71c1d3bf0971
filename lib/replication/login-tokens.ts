/**
 * Single-use login tokens for the login offload: an overloaded access server
 * that has checked a user's password sends her browser to a spare with a
 * token; the spare redeems it here over the peer link (`logintoken:<t>`),
 * and the password is never sent again or stored.
 *
 * The grant carries her auth token as her home answered it at the password
 * check, so the spare's session ends like any other when her password changes.
 *
 * A token is 32 random bytes, bound to the user and to the one host that may
 * redeem it, lives TOKEN_LIFETIME_MS, and is gone after its first redemption
 * attempt, whoever makes it. The table is bounded.
 */
import { randomBytes } from 'node:crypto';
import type { LoginGrant } from '../web';

/** Long enough for a browser to follow one redirect, short enough to be useless later. */
export const TOKEN_LIFETIME_MS = 60_000;
/** Tokens kept at most; the oldest go first (they are the nearest to expiry anyway). */
const MAX_TOKENS = 10_000;
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

interface Entry extends LoginGrant {
  readonly target: string;
  readonly expiresAt: number;
}

export class LoginTokens {
  readonly #tokens = new Map<string, Entry>();

  issue(grant: LoginGrant, target: string, now: number): string {
    this.#prune(now);
    const token = randomBytes(32).toString('base64url');
    this.#tokens.set(token, { ...grant, target, expiresAt: now + TOKEN_LIFETIME_MS });
    return token;
  }

  /** The grant, if `token` is live and `caller` is the host it was issued for; the token is spent either way. */
  redeem(token: string, caller: string, now: number): LoginGrant | 'not_found' | 'rejected' {
    if (!TOKEN_RE.test(token)) return 'not_found';
    const entry = this.#tokens.get(token);
    this.#tokens.delete(token);
    if (entry === undefined || entry.expiresAt <= now) return 'not_found';
    if (entry.target !== caller) return 'rejected';
    return { kind: 'accepted', user: entry.user, domain: entry.domain, authToken: entry.authToken, returnUrl: entry.returnUrl };
  }

  #prune(now: number): void {
    for (const [token, e] of this.#tokens) {
      if (e.expiresAt > now && this.#tokens.size < MAX_TOKENS) break;
      this.#tokens.delete(token);
    }
  }
}
