/**
 * Building a large reply without stalling the event loop: pages of rows are
 * read one indexed range at a time with a yield to other clients between
 * pages, and the reply has a hard size limit with a clear error, because a
 * reply travels in one frame and must fit.
 *
 * A reply being built is held whole in memory (up to --max-reply-bytes, and
 * a copy or two while it is joined and written), so at most
 * REPLY_BUILDERS_RUNNING are built at once, daemon-wide; the rest wait in one
 * line per calling host, served in turn (FairLimiter). Forty 7 MB dumps sent
 * in one write then cost four replies' memory at a time, not forty.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { badArgs } from '../errors';
import { FairLimiter } from '../store/fair-limiter';
import type { CommandContext } from './context';

/** Rows read per page: about a millisecond of SQLite and string work. */
export const PAGE_ROWS = 1000;

export const REPLY_BUILDERS_RUNNING = 2;
const replyBuilders = new FairLimiter({
  maxRunning: REPLY_BUILDERS_RUNNING,
  maxWaitingPerLane: 1024,
  maxWaiting: 4096,
  busy: 'too many large replies being built; try again',
});

/**
 * Build a paged reply for the caller when its turn comes and its connection
 * has room (see the module comment and lib/reply-room.ts). A turn that comes
 * while the connection is full is given back, so one stalled client never
 * holds a builder slot that others could use.
 */
export async function buildInTurn(ctx: CommandContext, build: () => Promise<string>): Promise<string> {
  const room = ctx.replyRoom;
  for (;;) {
    await room?.whenRoom();
    const built = await replyBuilders.run(ctx.caller, async () => (room === undefined || room.hasRoom() ? { reply: await build() } : undefined));
    if (built) return built.reply;
  }
}

export class BoundedReply {
  readonly #parts: string[] = [];
  readonly #limitBytes: number;
  readonly #what: string;
  readonly #hint: string;
  #bytes = 0;

  /** `hint` tells the caller how to ask for less, when the command has a way. */
  constructor(what: string, limitBytes: number, hint?: string) {
    this.#what = what;
    this.#limitBytes = limitBytes;
    this.#hint = hint === undefined ? '' : `; ${hint}`;
  }

  /** Parts are escaped ASCII, so characters are bytes. */
  add(part: string): void {
    this.#bytes += part.length + 1;
    if (this.#bytes > this.#limitBytes) {
      throw badArgs(`${this.#what} reply larger than ${this.#limitBytes} bytes${this.#hint}`);
    }
    this.#parts.push(part);
  }

  get count(): number {
    return this.#parts.length;
  }

  join(separator = '&'): string {
    return this.#parts.join(separator);
  }
}

/**
 * Feed `read(after)` pages to `take` until a short page or `take` answers
 * false; yields to the event loop before every page but the first (and
 * while an asynchronous `take` works).
 */
export async function forEachPage<Row, Cursor>(
  first: Cursor,
  read: (after: Cursor) => Row[],
  cursorOf: (row: Row) => Cursor,
  take: (rows: Row[]) => boolean | Promise<boolean>,
): Promise<void> {
  let after = first;
  for (let page = 0; ; page++) {
    if (page > 0) await nextTurn();
    const rows = read(after);
    if (rows.length === 0 || !(await take(rows)) || rows.length < PAGE_ROWS) return;
    after = cursorOf(rows[rows.length - 1]!);
  }
}
