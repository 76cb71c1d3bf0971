/**
 * Refused connections are logged, but never one line each: a scan or a
 * flood would fill the log and cost more than the refusals themselves.
 *
 * The first refusal of a kind (address + reason, digits ignored) in a window
 * is logged in full; the rest of the window are counted, and one summary
 * line per kind says how many followed. Memory is bounded: past
 * MAX_KINDS_PER_WINDOW, new kinds are only counted in a single total.
 * Every text that a peer chose (an id, a reason built from its bytes) is
 * made printable by the caller before it gets here.
 */
import type { Logger } from '../log';

export const REFUSAL_WINDOW_MS = 60_000;
const MAX_KINDS_PER_WINDOW = 256;

export class RefusalLog {
  readonly #log: Logger;
  readonly #windowMs: number;
  #kinds = new Map<string, { ip: string; why: string; more: number }>();
  #overflow = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(log: Logger, windowMs = REFUSAL_WINDOW_MS) {
    this.#log = log;
    this.#windowMs = windowMs;
  }

  note(ip: string, why: string): void {
    const key = ip + '\0' + why.replace(/\d+/g, '#');
    const seen = this.#kinds.get(key);
    if (seen) {
      seen.more++;
    } else if (this.#kinds.size >= MAX_KINDS_PER_WINDOW) {
      this.#overflow++;
    } else {
      this.#kinds.set(key, { ip, why, more: 0 });
      this.#log.warn(`refused peer connection from ${ip}: ${why}`);
    }
    this.#timer ??= setTimeout(() => this.#summarise(), this.#windowMs).unref();
  }

  /** Write the window's counts (also at shutdown). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#summarise();
  }

  #summarise(): void {
    this.#timer = undefined;
    for (const { ip, why, more } of this.#kinds.values()) {
      if (more > 0) this.#log.warn(`refused ${more} more peer connection(s) from ${ip} in the last ${this.#windowMs / 1000} s: ${why}`);
    }
    if (this.#overflow > 0) this.#log.warn(`refused ${this.#overflow} more peer connection(s) of other kinds in the last ${this.#windowMs / 1000} s`);
    this.#kinds = new Map();
    this.#overflow = 0;
  }
}
