/**
 * Load balancing at login (classic §4.2): an access server whose `load` or
 * `userload` is above 100 % hands new logins to the least loaded of its
 * spares whose own figures (the larger of the two) are below 100 %.
 *
 *   place()     no spares configured, or own load ≤ 100 % ─▶ here
 *               otherwise every spare is asked `load` and `userload` at once,
 *               with a deadline (SPARE_QUERY_TIMEOUT_MS); a qualifying primary
 *               wins over any default; none ─▶ overloaded (503, Retry-After)
 *   handOver()  a single-use token for the user, bound to the spare, and the
 *               spare's `/login/offload` URL carrying it
 *   redeem()    on the spare: `logintoken:<t>` to the issuer over the peer link
 */
import { escape, unescape } from '../client/escape';
import { spareServer, type Transport } from '../client/lonnet';
import type { Logger } from '../log';
import type { LoginGrant, LoginOffload, LoginPlacement } from '../web';
import { LOG_IN_HERE } from '../web';
import type { LoginTokens } from './login-tokens';
import type { Spares } from './spares';

/** Deadline of the load questions to the spares, ms: a login must not hang on a slow spare. */
const SPARE_QUERY_TIMEOUT_MS = 2_000;
/** Retry-After of the overload page, s: classic used the overload percentage above 100, bounded here. */
const MIN_RETRY_AFTER_S = 30;
const MAX_RETRY_AFTER_S = 600;

export interface LoadBalancerDeps {
  readonly selfId: () => string;
  readonly spares: () => Spares;
  /** This host's load in percent: the larger of `load` and `userload`. */
  readonly ownLoad: () => number;
  readonly transport: Transport;
  /** The web address of a host (`--host-url-template`), or undefined for an unknown id. */
  readonly urlOf: (host: string) => string | undefined;
  readonly tokens: LoginTokens;
  readonly log: Logger;
}

export class LoadBalancer implements LoginOffload {
  readonly #d: LoadBalancerDeps;

  constructor(deps: LoadBalancerDeps) {
    this.#d = deps;
  }

  async place(): Promise<LoginPlacement> {
    const { primary, default: fallback } = this.#d.spares();
    // Without spares there is nobody to hand a login to: a busy server still takes it.
    if (primary.length === 0 && fallback.length === 0) return LOG_IN_HERE;
    const load = this.#d.ownLoad();
    if (load <= 100) return LOG_IN_HERE;
    const opts = { timeoutMs: SPARE_QUERY_TIMEOUT_MS };
    const [p, f] = await Promise.all([
      spareServer(this.#d.transport, primary, opts),
      spareServer(this.#d.transport, fallback, opts),
    ]);
    const spare = p ?? f;
    if (spare !== undefined && this.#d.urlOf(spare) !== undefined) return { kind: 'spare', spare };
    const retryAfterS = Math.min(MAX_RETRY_AFTER_S, Math.max(MIN_RETRY_AFTER_S, Math.ceil(load - 100)));
    return { kind: 'overloaded', retryAfterS };
  }

  handOver(grant: LoginGrant, spare: string): string {
    const token = this.#d.tokens.issue(grant, spare, Date.now());
    return `${this.#d.urlOf(spare)}/login/offload?token=${token}&from=${encodeURIComponent(this.#d.selfId())}`;
  }

  async redeem(token: string, from: string): Promise<LoginGrant | undefined> {
    if (from === this.#d.selfId()) return undefined;
    const reply = await this.#d.transport.reply(from, `logintoken:${escape(token)}`);
    const grant = parseGrant(reply);
    if (grant === undefined) this.#d.log.warn(`login token from ${from} not redeemed: ${reply.slice(0, 100)}`);
    return grant;
  }

  /** `logintoken:<t>` from `caller`: the classic reply. */
  redeemHere(token: string, caller: string): string {
    const r = this.#d.tokens.redeem(unescape(token), caller, Date.now());
    if (typeof r === 'string') return r;
    return `user=${escape(r.user)}&domain=${escape(r.domain)}&token=${escape(r.authToken)}&return=${escape(r.returnUrl)}`;
  }
}

function parseGrant(reply: string): LoginGrant | undefined {
  const m = /^user=([^&]*)&domain=([^&]*)&token=([^&]+)&return=([^&]*)$/.exec(reply);
  if (!m) return undefined;
  return { kind: 'accepted', user: unescape(m[1]!), domain: unescape(m[2]!), authToken: unescape(m[3]!), returnUrl: unescape(m[4]!) };
}
