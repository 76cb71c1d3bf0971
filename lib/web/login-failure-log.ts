/**
 * The log of failed web logins: each failure once, with the account and the
 * client address (never the password), without letting a flood flood the log.
 *
 *   within one period (a minute):
 *     a source's first LINES_PER_SOURCE failures, and at most LINES_PER_PERIOD
 *     in all                               → one line each
 *     the rest                             → counted per source
 *   at the end of the period (or at stop) → one line per counting source:
 *     "web login: 245 more failed logins from 203.0.113.9 in the last minute (last: zed:msu)"
 *     past MAX_SUMMARISED_SOURCES sources → one count for all the others
 *
 * Memory is bounded by MAX_SUMMARISED_SOURCES entries; the timer runs only
 * while something is counted, and is unref'd.
 */
import type { WebLog } from './web-auth';

/** Lines a single source may have per period before its failures are only counted. */
export const LINES_PER_SOURCE = 5;
/** Lines of failed logins per period, all sources together. */
export const LINES_PER_PERIOD = 50;
/** Sources counted one by one within a period; the rest share one count. */
export const MAX_SUMMARISED_SOURCES = 1_000;
export const FAILURE_LOG_PERIOD_MS = 60_000;

interface SourceCount {
  /** Lines logged for this source this period. */
  lines: number;
  /** Failures counted, not logged. */
  more: number;
  lastAccount: string;
}

export class LoginFailureLog {
  readonly #log: WebLog;
  readonly #periodMs: number;
  readonly #sources = new Map<string, SourceCount>();
  #periodStartMs = 0;
  #linesThisPeriod = 0;
  /** Failures of sources beyond MAX_SUMMARISED_SOURCES (not told apart: that would take memory). */
  #othersMore = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Told of every failure, logged or only counted (the daemon's metrics). */
  readonly #onFailed: () => void;

  constructor(log: WebLog, periodMs = FAILURE_LOG_PERIOD_MS, onFailed: () => void = () => {}) {
    this.#log = log;
    this.#periodMs = periodMs;
    this.#onFailed = onFailed;
  }

  /** A failed login of `account` from `source`; `why` says how it failed (no secrets). */
  failed(account: string, source: string, why: string, nowMs: number): void {
    this.#onFailed();
    if (nowMs - this.#periodStartMs >= this.#periodMs) this.flush(nowMs);
    let count = this.#sources.get(source);
    if (count === undefined) {
      if (this.#sources.size >= MAX_SUMMARISED_SOURCES) {
        this.#othersMore++;
        this.#armTimer(nowMs);
        return;
      }
      count = { lines: 0, more: 0, lastAccount: account };
      this.#sources.set(source, count);
    }
    count.lastAccount = account;
    if (count.lines < LINES_PER_SOURCE && this.#linesThisPeriod < LINES_PER_PERIOD) {
      count.lines++;
      this.#linesThisPeriod++;
      this.#log('info', `web login failed for ${account} from ${source}: ${why}`);
      return;
    }
    count.more++;
    this.#armTimer(nowMs);
  }

  /** Write the summaries of the period and start a new one. */
  flush(nowMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [source, count] of this.#sources) {
      if (count.more > 0) {
        this.#log('warn', `web login: ${count.more} more failed logins from ${source} in the last minute (last: ${count.lastAccount})`);
      }
    }
    if (this.#othersMore > 0) {
      this.#log('warn', `web login: ${this.#othersMore} more failed logins from other addresses in the last minute`);
    }
    this.#sources.clear();
    this.#othersMore = 0;
    this.#linesThisPeriod = 0;
    this.#periodStartMs = nowMs;
  }

  /** At stop: nothing counted is left unsaid. */
  close(): void {
    this.flush(Date.now());
  }

  #armTimer(nowMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.flush(Date.now()), Math.max(0, this.#periodStartMs + this.#periodMs - nowMs));
    this.#timer.unref();
  }
}
