/**
 * Refused connections are logged, but never one line each: a scan or a
 * flood would fill the log and cost more than the refusals themselves.
 *
 * The first refusal of a kind (address + reason, digits ignored) in a window
 * is logged in full; the rest of the window are counted, and one summary
 * line per kind says how many followed. Memory is bounded: past
 * MAX_KINDS_PER_WINDOW, new kinds are only counted in a single total. The
 * counting is the daemon's one RepeatLog; this file only words the lines.
 * Every text that a peer chose (an id, a reason built from its bytes) is
 * made printable by the caller before it gets here.
 */
import type { Logger } from '../log';
import { RepeatLog } from '../repeat-log';

export const REFUSAL_WINDOW_MS = 60_000;
const MAX_KINDS_PER_WINDOW = 256;

export class RefusalLog {
  readonly #repeats: RepeatLog;

  constructor(log: Logger, windowMs = REFUSAL_WINDOW_MS) {
    this.#repeats = new RepeatLog({
      periodMs: () => windowMs,
      maxKeys: MAX_KINDS_PER_WINDOW,
      write: (line) => log.warn(line),
      overflowLine: (count, period) => `refused ${count} more peer connection(s) of other kinds in the last ${period}`,
    });
  }

  note(ip: string, why: string): void {
    this.#repeats.note(
      ip + '\0' + why.replace(/\d+/g, '#'),
      () => `refused peer connection from ${ip}: ${why}`,
      (more, period) => `refused ${more} more peer connection(s) from ${ip} in the last ${period}: ${why}`,
    );
  }

  /** Write the window's counts (also at shutdown). */
  flush(): void {
    this.#repeats.flush();
  }
}
