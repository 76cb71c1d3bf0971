/**
 * Every password check a caller asks for (`auth`, the old password of
 * `passwd`) goes through here: throttled per account and per calling host
 * (auth-throttle.ts), delayed when it fails, and logged once per account and
 * host per period with repeats summed up (lib/repeat-log.ts) — never with the
 * password.
 *
 *   verify(user, host, check)
 *     throttled   ─▶ false at once, no check   log: auth throttled for …  (first per period)
 *     check() ok  ─▶ true
 *     check() no  ─▶ wait failureDelayMs ─▶ false   log: auth failed for <user> in <domain> from <host>
 *     check() threw (a full waiting line: transient) ─▶ rethrown, not counted
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { UserRef } from '../store';
import { AuthThrottle, type AuthThrottleSettings, type ThrottledBy } from './auth-throttle';
import { RepeatLog } from '../repeat-log';

export interface AuthGuardSettings extends AuthThrottleSettings {
  /** How long a failed check waits before it answers, ms (a serial guesser's pace). */
  readonly failureDelayMs: number;
}

export interface AuthGuardOptions {
  readonly settings: () => AuthGuardSettings;
  /** The period of the repeat log, ms (--log-repeat-ms). */
  readonly logRepeatMs: () => number;
  readonly warn: (line: string) => void;
  readonly now?: () => number;
}

/** Distinct (account, host) lines per log period; the rest are counted together. */
const LOGGED_KEYS_PER_PERIOD = 100;

export class AuthGuard {
  readonly #settings: () => AuthGuardSettings;
  readonly #now: () => number;
  readonly #throttle: AuthThrottle;
  readonly #log: RepeatLog;

  constructor(options: AuthGuardOptions) {
    this.#settings = options.settings;
    this.#now = options.now ?? Date.now;
    this.#throttle = new AuthThrottle(options.settings);
    this.#log = new RepeatLog({ periodMs: options.logRepeatMs, maxKeys: LOGGED_KEYS_PER_PERIOD, write: options.warn });
  }

  /** Run `check` unless `user` or `host` is throttled; true only when it ran and answered true. */
  async verify(user: UserRef, host: string, check: () => Promise<boolean>): Promise<boolean> {
    const account = `${user.name} in ${user.domain}`;
    const by = this.#throttle.begin(account, host, this.#now());
    if (by) {
      this.#noteThrottled(by, account, host);
      return false;
    }
    let ok: boolean;
    try {
      ok = await check();
    } catch (err) {
      this.#throttle.settle(account, host, 'error', this.#now());
      throw err;
    }
    this.#throttle.settle(account, host, ok ? 'ok' : 'failed', this.#now());
    if (ok) return true;
    this.#log.note(`failed ${account} ${host}`, () => `auth failed for ${account} from ${host}`);
    const delayMs = this.#settings().failureDelayMs;
    if (delayMs > 0) await sleep(delayMs);
    return false;
  }

  /** Write the summaries of the current period (at shutdown). */
  close(): void {
    this.#log.close();
  }

  #noteThrottled(by: ThrottledBy, account: string, host: string): void {
    const s = this.#settings();
    const key = by === 'account' ? account : host;
    const until = (): string => new Date(this.#throttle.until(by, key)).toISOString();
    if (by === 'account') {
      this.#log.note(`throttled ${account} ${host}`, () =>
        `auth throttled for ${account} from ${host}: ${s.perAccount} failed checks of the account in ${s.windowMs} ms; ` +
          `non_authorized without a check until ${until()}`,
      );
    } else {
      this.#log.note(`throttled ${host}`, () =>
        `auth throttled from ${host} (for ${account}): ${s.perHost} failed checks from the host in ${s.windowMs} ms; ` +
          `non_authorized without a check until ${until()}`,
      );
    }
  }
}
