/**
 * One outbound queue per sealed connection, flushed once per loop turn:
 * every message queued during the turn goes into one sealed frame and one
 * write() (sealing per message costs 6× here, see shared/baselines).
 *
 * The flush runs in setImmediate, after the poll phase has delivered all
 * readable sockets of this turn, so replies to a burst of requests leave
 * together. A turn with many messages seals them MESSAGES_PER_FRAME at a
 * time as they come: the peer starts on the first frame while this side
 * builds the next, so the two processes work at once (on two cores, ping at
 * 64 in flight went from ~150k to ~190k req/s) instead of taking turns.
 *
 * Large replies go out in fragments, BULK_BYTES_PER_TURN a turn: sealing is
 * synchronous (tweetnacl seals about 44 MB/s here), and a 2 MB dump sealed
 * whole would hold every other connection for ~45 ms on each side. Up to
 * BULK_REPLIES_INTERLEAVED large replies take turns, a fragment each (round
 * robin), so one client's huge reply never holds up another's on the same
 * link; more wait their turn, because the receiver holds every reply it has
 * begun to receive until its last fragment. Short messages go first in every
 * frame.
 */
import type { Socket } from 'node:net';
import { MAC_BYTES, MAX_FRAME_BYTES } from './constants';
import { encodeFrame } from './frame';
import { fragmentReply } from './messages';
import type { SealedSession } from './seal';

/** Fragment size of a large reply, in characters. */
export const REPLY_FRAGMENT_CHARS = 64 * 1024;
/** Fragments sealed per connection per loop turn, in characters. */
const BULK_BYTES_PER_TURN = 2 * REPLY_FRAGMENT_CHARS;
/** Large replies sent side by side; the receiver reassembles at most this many at once. */
const BULK_REPLIES_INTERLEAVED = 4;
/** Short messages sealed and written together before the turn ends. */
export const MESSAGES_PER_FRAME = 32;

export class SealedWriter {
  #queue: string[] = [];
  /** Large replies still being sent: each its remaining fragments, in order. */
  #bulk: string[][] = [];
  /** Characters queued and not yet sealed (short messages and fragments). */
  #pendingChars = 0;
  #scheduled: NodeJS.Immediate | undefined;
  readonly #socket: Socket;
  readonly #session: SealedSession;

  constructor(socket: Socket, session: SealedSession) {
    this.#socket = socket;
    this.#session = session;
  }

  /** Characters queued here and not yet written (the owner bounds it). */
  get pendingChars(): number {
    return this.#pendingChars;
  }

  /** Queue one message line (no `\n` inside). */
  push(line: string): void {
    this.#queue.push(line);
    this.#pendingChars += line.length;
    if (this.#queue.length >= MESSAGES_PER_FRAME) this.#write(this.#takeQueue());
    else this.#scheduled ??= setImmediate(this.flush);
  }

  /** Queue a reply, in fragments when it is large. */
  pushReply(id: number, reply: string): void {
    if (reply.length <= REPLY_FRAGMENT_CHARS) {
      this.push(`r ${id} ${reply}`);
      return;
    }
    this.#bulk.push(fragmentReply(id, reply, REPLY_FRAGMENT_CHARS));
    this.#pendingChars += reply.length;
    this.#scheduled ??= setImmediate(this.flush);
  }

  /** Write what is queued now (also called on close to get replies out). */
  readonly flush = (): void => {
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#socket.destroyed) return;
    let lines = this.#takeQueue();
    if (this.#bulk.length > 0) {
      lines = lines.concat(this.#takeBulk());
      if (this.#bulk.length > 0) this.#scheduled = setImmediate(this.flush);
    }
    this.#write(lines);
  };

  #takeQueue(): string[] {
    const lines = this.#queue;
    this.#queue = [];
    return lines;
  }

  /** Seal `lines` into as few frames as the frame size allows, and write them at once. */
  #write(lines: string[]): void {
    if (lines.length === 0 || this.#socket.destroyed) return;
    const frames: Buffer[] = [];
    let start = 0;
    let bytes = 0;
    let chars = 0;
    const limit = MAX_FRAME_BYTES - MAC_BYTES;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      chars += line.length;
      const len = Buffer.byteLength(line) + 1;
      if (bytes + len > limit && i > start) {
        frames.push(this.#seal(lines, start, i));
        start = i;
        bytes = 0;
      }
      bytes += len;
    }
    frames.push(this.#seal(lines, start, lines.length));
    this.#pendingChars = Math.max(0, this.#pendingChars - chars);
    this.#socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /** Up to one turn's worth of fragments, one from each large reply in turn. */
  #takeBulk(): string[] {
    const out: string[] = [];
    let taken = 0;
    while (taken < BULK_BYTES_PER_TURN && this.#bulk.length > 0) {
      for (let i = 0; i < Math.min(this.#bulk.length, BULK_REPLIES_INTERLEAVED) && taken < BULK_BYTES_PER_TURN; i++) {
        const piece = this.#bulk[i]!.shift()!;
        out.push(piece);
        taken += piece.length;
      }
      this.#bulk = this.#bulk.filter((fragments) => fragments.length > 0);
    }
    return out;
  }

  #seal(lines: string[], from: number, to: number): Buffer {
    const text = from === 0 && to === lines.length ? lines.join('\n') : lines.slice(from, to).join('\n');
    return encodeFrame(this.#session.seal(Buffer.from(text, 'utf8')));
  }

  /** Drop anything queued (the connection is gone). */
  discard(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    this.#queue = [];
    this.#bulk = [];
    this.#pendingChars = 0;
  }
}
