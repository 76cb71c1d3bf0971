/**
 * One outbound queue per sealed connection, flushed once per loop turn:
 * every message queued during the turn goes into one sealed frame and one
 * write() (sealing per message costs 6× here, see shared/baselines).
 *
 * The flush runs in setImmediate, after the poll phase has delivered all
 * readable sockets of this turn, so replies to a burst of requests leave
 * together.
 */
import type { Socket } from 'node:net';
import { MAC_BYTES, MAX_FRAME_BYTES } from './constants';
import { encodeFrame } from './frame';
import type { SealedSession } from './seal';

export class SealedWriter {
  #queue: string[] = [];
  #queuedBytes = 0;
  #scheduled: NodeJS.Immediate | undefined;
  readonly #socket: Socket;
  readonly #session: SealedSession;

  constructor(socket: Socket, session: SealedSession) {
    this.#socket = socket;
    this.#session = session;
  }

  /** Queue one message line (no `\n` inside). */
  push(line: string): void {
    this.#queue.push(line);
    this.#queuedBytes += line.length + 1;
    this.#scheduled ??= setImmediate(this.flush);
  }

  /** The socket's own buffer is full: producers should slow down. */
  get congested(): boolean {
    return this.#socket.writableNeedDrain;
  }

  /** Write what is queued now (also called on close to get replies out). */
  readonly flush = (): void => {
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#queue.length === 0 || this.#socket.destroyed) return;
    const lines = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    const frames: Buffer[] = [];
    let start = 0;
    let bytes = 0;
    const limit = MAX_FRAME_BYTES - MAC_BYTES;
    for (let i = 0; i < lines.length; i++) {
      const len = Buffer.byteLength(lines[i]!) + 1;
      if (bytes + len > limit && i > start) {
        frames.push(this.#seal(lines, start, i));
        start = i;
        bytes = 0;
      }
      bytes += len;
    }
    frames.push(this.#seal(lines, start, lines.length));
    this.#socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  };

  get queuedBytes(): number {
    return this.#queuedBytes;
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
    this.#queuedBytes = 0;
  }
}
