/**
 * The one newline splitter for every line protocol (the multiplexed socket,
 * the classic per-peer sockets and the client library). Bytes in, complete
 * lines out; a line longer than the limit is an error reported to the owner
 * before it is buffered whole.
 */
import { LoncapadError } from '../errors';

export class LineSplitter {
  #tail: Buffer[] = [];
  #tailBytes = 0;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of a line begun and not yet ended. */
  get pendingBytes(): number {
    return this.#tailBytes;
  }

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      let line: Buffer = chunk.subarray(start, nl);
      if (this.#tailBytes > 0) {
        this.#tail.push(line);
        line = Buffer.concat(this.#tail, this.#tailBytes + line.length);
        this.#tail = [];
        this.#tailBytes = 0;
      }
      if (line.length > this.#maxBytes) throw tooLong(line.length, this.#maxBytes);
      const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length; // tolerate CRLF
      lines.push(line.toString('utf8', 0, end));
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#tailBytes += chunk.length - start;
      if (this.#tailBytes > this.#maxBytes) throw tooLong(this.#tailBytes, this.#maxBytes);
      this.#tail.push(chunk.subarray(start));
    }
    return lines;
  }
}

function tooLong(n: number, max: number): LoncapadError {
  return new LoncapadError('LC_ERR_LINE_TOO_LONG', `line of more than ${Math.min(n, max)} bytes (limit ${max})`);
}

/** Lines written together before the turn ends (see LineWriter). */
export const LINES_PER_WRITE = 32;

/**
 * Coalesces one connection's output lines into one write per loop turn, or
 * per LINES_PER_WRITE lines when a turn has more: the reader starts on them
 * while the rest are made (see MESSAGES_PER_FRAME in wire/sealed-writer.ts).
 */
export class LineWriter {
  #out: string[] = [];
  #pendingChars = 0;
  #scheduled: NodeJS.Immediate | undefined;
  readonly #write: (text: string) => void;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** Characters queued for this turn's write. */
  get pendingChars(): number {
    return this.#pendingChars;
  }

  push(line: string): void {
    this.#out.push(line);
    this.#pendingChars += line.length + 1;
    if (this.#out.length >= LINES_PER_WRITE) this.flush();
    else this.#scheduled ??= setImmediate(this.flush);
  }

  readonly flush = (): void => {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#out.length === 0) return;
    const text = this.#out.join('\n') + '\n';
    this.#out = [];
    this.#pendingChars = 0;
    this.#write(text);
  };

  discard(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    this.#out = [];
    this.#pendingChars = 0;
  }
}
