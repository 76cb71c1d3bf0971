/**
 * The last few warnings and errors the daemon logged, for the status page:
 * an operator who opens it sees what went wrong lately without a shell on
 * the host. A ring of RECENT_ERROR_LINES entries of at most
 * RECENT_ERROR_CHARS characters each, so its memory is bounded whatever is
 * logged; fed by the logger's hook (daemon.ts wires it).
 */
import type { LogLevel } from './log';

/** Lines kept: enough for a screen of context, few enough to send every few seconds. */
export const RECENT_ERROR_LINES = 50;
/** Longest text kept per line; the log itself has the rest. */
export const RECENT_ERROR_CHARS = 500;

export interface RecentError {
  /** ISO time the line was logged. */
  readonly at: string;
  readonly level: 'warn' | 'error';
  readonly text: string;
}

export class RecentErrors {
  readonly #ring: RecentError[] = [];
  readonly #capacity: number;
  /** Where the next entry goes once the ring is full. */
  #next = 0;

  constructor(capacity = RECENT_ERROR_LINES) {
    this.#capacity = capacity;
  }

  /** A logged line; anything below `warn` is not kept. */
  add(level: LogLevel, text: string, at: string): void {
    if (level !== 'warn' && level !== 'error') return;
    const entry = { at, level, text: text.length > RECENT_ERROR_CHARS ? text.slice(0, RECENT_ERROR_CHARS) + '…' : text };
    if (this.#ring.length < this.#capacity) {
      this.#ring.push(entry);
      return;
    }
    this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** Newest first. */
  list(): RecentError[] {
    const oldestFirst = [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return oldestFirst.reverse();
  }
}
