/**
 * Does a session still stand? Its cookie carries the user's auth token from
 * login; her home server replaces the token whenever her authentication
 * changes (`passwd`, `changeuserauth`), and this asks for the current one.
 *
 *   home answers her token     → current when it equals the cookie's
 *   home says unknown_user     → not current (she was removed or moved)
 *   home cannot be reached     → current: nothing can change her password
 *                                while her home is away from us, and logging
 *                                everyone out on a network blip helps no one
 *
 * Answers are kept per user for `ttlMs` (0: ask on every request), at most
 * TOKEN_CACHE_MAX_USERS users; concurrent requests of one user share one
 * question. A change that passes through this server is `forget`-ed at once;
 * one made elsewhere is seen within `ttlMs`.
 */
import { isUnreachable } from '../errors';
import { splitUserId } from './permissions';
import type { WebAuth, WebLog } from './web-auth';
import { cachedAsync, type MaybePromise, TtlCache } from './ttl-cache';

/** Users whose answer is remembered. */
export const TOKEN_CACHE_MAX_USERS = 10_000;
export const DEFAULT_SESSION_CHECK_TTL_MS = 5_000;

/** The home server's answer: her token, `null` for no such user, or `undefined` when it could not answer. */
type TokenAnswer = string | null | undefined;

export class SessionTokens {
  readonly #lookup: WebAuth['authToken'];
  readonly #log: WebLog;
  readonly #cache: TtlCache<MaybePromise<TokenAnswer>>;

  constructor(lookup: WebAuth['authToken'], ttlMs: number, log: WebLog) {
    this.#lookup = lookup;
    this.#log = log;
    this.#cache = new TtlCache(ttlMs, TOKEN_CACHE_MAX_USERS);
  }

  /** `userId` is `<user>:<domain>`; `token` is the one her cookie carries. */
  async isCurrent(userId: string, token: string): Promise<boolean> {
    const answer = await cachedAsync(this.#cache, userId, () => this.#ask(userId));
    return answer === undefined || answer === token;
  }

  /** Her authentication changed: ask again at her next request. */
  forget(userId: string): void {
    this.#cache.delete(userId);
  }

  async #ask(userId: string): Promise<TokenAnswer> {
    const { user, domain } = splitUserId(userId);
    try {
      return (await this.#lookup(user, domain)) ?? null;
    } catch (err) {
      if (isUnreachable(err)) return undefined;
      // Anything else is a bug or a refusal: end the session rather than trust it.
      this.#log('error', `web session check of ${userId}: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }
}
