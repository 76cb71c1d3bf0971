/**
 * Log lines an offender can repeat at will (a refused command, a failed
 * `auth`) must neither go unlogged nor flood the log. So each key (who did
 * what) is logged the first time it happens in a period; its repeats are only
 * counted, and one line per key sums them up when the period ends:
 *
 *   t=0    refused makeuser from acc1: …              (logged at once)
 *   t=0…p  the same 4 more times                      (counted)
 *   t=p    refused makeuser from acc1: … (4 more times in the last 60 s)
 *
 * Memory and log lines are bounded: at most maxKeys keys per period; the
 * occurrences of keys beyond that are counted together and summed up in one
 * line.
 *
 * Used for refused commands and failed `auth` (lib/commands/) and refused
 * peer connections (lib/peers/refusal-log.ts, which words its own summaries).
 */

export interface RepeatLogOptions {
  /** Length of a period, ms (read when a period starts, so a reload applies to the next). */
  readonly periodMs: () => number;
  /** Keys remembered per period. */
  readonly maxKeys: number;
  readonly write: (line: string) => void;
  /** The line for occurrences beyond maxKeys; `period` reads like `60 s`. */
  readonly overflowLine?: (count: number, period: string) => string;
}

/** The summary of a key's repeats; `period` reads like `60 s`. */
export type RepeatSummary = (repeats: number, period: string) => string;

interface Seen {
  readonly line: string;
  readonly summary: RepeatSummary | undefined;
  repeats: number;
}

export class RepeatLog {
  readonly #o: RepeatLogOptions;
  readonly #seen = new Map<string, Seen>();
  /** Occurrences of keys that did not fit in #seen this period. */
  #overflow = 0;
  #periodMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RepeatLogOptions) {
    this.#o = options;
  }

  /**
   * One occurrence of `key`; `line` is built (and written) only for the first
   * one of the period. The repeats are summed up as `summary` words them, by
   * default as the line followed by `(<n> more times in the last <period>)`.
   */
  note(key: string, line: () => string, summary?: RepeatSummary): void {
    const seen = this.#seen.get(key);
    if (seen) {
      seen.repeats++;
      this.#startPeriod();
    } else if (this.#seen.size < this.#o.maxKeys) {
      const text = line();
      this.#seen.set(key, { line: text, summary, repeats: 0 });
      this.#o.write(text);
      this.#startPeriod();
    } else {
      this.#overflow++;
      this.#startPeriod();
    }
  }

  /** Write the summaries of the period now and start afresh. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const period = this.#periodMs % 1000 === 0 ? `${this.#periodMs / 1000} s` : `${this.#periodMs} ms`;
    for (const { line, summary, repeats } of this.#seen.values()) {
      if (repeats === 0) continue;
      this.#o.write(summary ? summary(repeats, period) : `${line} (${repeats} more time${repeats === 1 ? '' : 's'} in the last ${period})`);
    }
    if (this.#overflow > 0) {
      const overflowLine = this.#o.overflowLine ?? ((n, p) => `… and ${n} more like these in the last ${p}, not listed one by one`);
      this.#o.write(overflowLine(this.#overflow, period));
    }
    this.#seen.clear();
    this.#overflow = 0;
  }

  /** Stop the period timer (at shutdown). */
  close(): void {
    this.flush();
  }

  #startPeriod(): void {
    if (this.#timer) return;
    this.#periodMs = this.#o.periodMs();
    this.#timer = setTimeout(() => this.flush(), this.#periodMs);
    // A summary is not a reason to keep the process alive.
    this.#timer.unref();
  }
}
