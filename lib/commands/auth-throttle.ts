/**
 * When to stop checking passwords (the policy only; auth-guard.ts applies
 * it). Failed checks are counted per account (from every host) and per
 * calling host (for every account) in a fixed window; a key that reached its
 * limit is throttled until its window ends: further attempts are answered
 * `non_authorized` without a check, so a flood costs no scrypt.
 *
 *   begin(account, host) ─▶ throttled? ─▶ 'account' | 'host' (no check)
 *                        └▶ undefined: the check runs, counted as pending
 *   settle(…, outcome)   ─▶ 'failed' counts; 'ok' clears the account's count;
 *                           'error' (nothing was checked) only ends the pending
 *
 * Checks still running count against the limit, so a burst that arrives at
 * once starts at most `limit` checks, not one per request. A correct
 * password clears its account's count (the user is who she says) but not
 * her host's.
 *
 * The trade-off, documented for operators: whoever knows a user name can lock
 * her out of password login for a window by failing on purpose; the window
 * is short and the log names the host that did it.
 *
 * Memory is bounded: at most maxKeys accounts and maxKeys hosts are
 * remembered; the least recently seen is forgotten first.
 */

export interface AuthThrottleSettings {
  /** Failed checks of one account, from any host, per window. */
  readonly perAccount: number;
  /** Failed checks from one calling host, for any account, per window. */
  readonly perHost: number;
  /** Length of a window, ms. */
  readonly windowMs: number;
}

export type ThrottledBy = 'account' | 'host';
export type CheckOutcome = 'ok' | 'failed' | 'error';

interface Count {
  windowStart: number;
  failures: number;
  pending: number;
}

export class AuthThrottle {
  readonly #settings: () => AuthThrottleSettings;
  readonly #maxKeys: number;
  readonly #accounts = new Map<string, Count>();
  readonly #hosts = new Map<string, Count>();

  constructor(settings: () => AuthThrottleSettings, maxKeys = 10_000) {
    this.#settings = settings;
    this.#maxKeys = maxKeys;
  }

  /** May a check for `account` from `host` run now? Undefined: yes, and it is pending until settled. */
  begin(account: string, host: string, now: number): ThrottledBy | undefined {
    const s = this.#settings();
    const a = this.#count(this.#accounts, account, now, s.windowMs);
    const h = this.#count(this.#hosts, host, now, s.windowMs);
    if (a.failures + a.pending >= s.perAccount) return 'account';
    if (h.failures + h.pending >= s.perHost) return 'host';
    a.pending++;
    h.pending++;
    return undefined;
  }

  settle(account: string, host: string, outcome: CheckOutcome, now: number): void {
    const windowMs = this.#settings().windowMs;
    const a = this.#count(this.#accounts, account, now, windowMs);
    const h = this.#count(this.#hosts, host, now, windowMs);
    a.pending = Math.max(0, a.pending - 1);
    h.pending = Math.max(0, h.pending - 1);
    if (outcome === 'failed') {
      a.failures++;
      h.failures++;
    } else if (outcome === 'ok') {
      a.failures = 0;
    }
  }

  /** When the window that throttles `key` ends (ms), for the log. */
  until(by: ThrottledBy, key: string): number {
    const count = (by === 'account' ? this.#accounts : this.#hosts).get(key);
    return (count?.windowStart ?? 0) + this.#settings().windowMs;
  }

  /** Accounts and hosts remembered (bounded by maxKeys each). */
  get size(): { accounts: number; hosts: number } {
    return { accounts: this.#accounts.size, hosts: this.#hosts.size };
  }

  /** The key's count in its current window; the key becomes the most recently seen. */
  #count(map: Map<string, Count>, key: string, now: number, windowMs: number): Count {
    let count = map.get(key);
    if (count) map.delete(key);
    else {
      count = { windowStart: now, failures: 0, pending: 0 };
      if (map.size >= this.#maxKeys) map.delete(map.keys().next().value!);
    }
    if (now - count.windowStart >= windowMs) {
      count.windowStart = now;
      count.failures = 0;
    }
    map.set(key, count);
    return count;
  }
}
