/**
 * Critical message ids: unique across the network and increasing within one
 * daemon run, `<run id>.<counter>`.
 *
 * Random ids (UUIDs) land all over the B-trees of `queue.msgid` here and of
 * `applied.msgid` on the receiver, so every 64-row group commit dirtied ~64
 * index pages, all written to the WAL and fsync'd: commits took 4× as long
 * as with ids that append at the right edge. The run id (64 random bits,
 * fresh at every start) keeps ids of different runs and hosts apart.
 *
 * The receiver reads the format back (`sequenceOf`): consecutive ids of one
 * run that got the same reply are recorded as one run of ids, not a row
 * each (store/applied-table.ts). Ids of any other shape (another
 * implementation's) are recorded one by one.
 */
import { randomBytes } from 'node:crypto';

/** Characters of the run id: 64 random bits in hex. */
const RUN_CHARS = 16;
/** Fixed width so that string order is counter order. */
const COUNTER_DIGITS = 11; // base 36: 36^11 ≈ 1.3e17 ids per run

export function createMsgidSource(): () => string {
  const run = randomBytes(RUN_CHARS / 2).toString('hex');
  let counter = 0;
  return () => msgidOf(run, counter++);
}

/** An id of this format, taken apart. */
export interface MsgidSequence {
  readonly run: string;
  readonly n: number;
}

/**
 * The run and counter of `msgid`, or undefined when it is not of this format
 * or not its one spelling: the counter must be COUNTER_DIGITS lower-case
 * base-36 digits (as msgidOf writes them), so that a run of counters names
 * exactly these ids. Read digit by digit: the receiver parses every critical
 * id twice, and parseInt with a check by re-encoding made ~230 bytes of
 * garbage each time.
 */
export function sequenceOf(msgid: string): MsgidSequence | undefined {
  if (msgid.length !== RUN_CHARS + 1 + COUNTER_DIGITS || msgid.charCodeAt(RUN_CHARS) !== 0x2e /* . */) return undefined;
  let n = 0;
  for (let i = RUN_CHARS + 1; i < msgid.length; i++) {
    const c = msgid.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x7a ? c - 0x61 + 10 : -1;
    if (digit < 0) return undefined;
    n = n * 36 + digit;
  }
  // Past 2^53 the sum is no longer exact (and never smaller again): such an id is recorded by itself.
  if (!Number.isSafeInteger(n)) return undefined;
  return { run: msgid.slice(0, RUN_CHARS), n };
}

/** The id of counter `n` in `run`. */
export function msgidOf(run: string, n: number): string {
  return `${run}.${counterDigits(n)}`;
}

function counterDigits(n: number): string {
  return n.toString(36).padStart(COUNTER_DIGITS, '0');
}
