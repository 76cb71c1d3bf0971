/**
 * Length-prefixed framing: `[u32 BE length][body]`. Pure: bytes in, frames
 * out; the decoder never touches a socket and reports errors to its owner.
 * Partial input is the normal case, and the length limit is checked at the
 * header, before any body is buffered.
 *
 * Frames are taken one at a time (`push`, then `next` until undefined), and
 * the limit applies to each frame when it is taken. That is how the
 * handshake hands over to the session mid-buffer: the initiator may send
 * Finish and its first (large) sealed frame in one write, and the owner
 * raises the limit after Finish and before the next frame is parsed.
 */
import { LoncapadError } from '../errors';
import { FRAME_HEADER_BYTES } from './constants';

export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Raise (or lower) the limit for the frames taken from now on. */
  setMaxBytes(maxBytes: number): void {
    this.#maxBytes = maxBytes;
  }

  /** Bytes received and not yet taken as frames: a partial frame when > 0 after `next` ran dry. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Feed bytes; take the frames with `next`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete frame body, or undefined until more bytes arrive. Throws LoncapadError on a bad header. */
  next(): Buffer | undefined {
    if (this.#buffered < FRAME_HEADER_BYTES) return undefined;
    const len = this.#peekLength();
    if (len > this.#maxBytes) {
      throw new LoncapadError('LC_ERR_FRAME_TOO_LARGE', `frame of ${len} bytes exceeds ${this.#maxBytes}`);
    }
    if (len === 0) throw new LoncapadError('LC_ERR_BAD_FRAME', 'empty frame');
    if (this.#buffered < FRAME_HEADER_BYTES + len) return undefined;
    this.#consume(FRAME_HEADER_BYTES);
    return this.#consume(len);
  }

  /** Every complete frame now buffered, under the current limit (for owners whose limit never changes). */
  drain(): Buffer[] {
    const frames: Buffer[] = [];
    for (let f = this.next(); f !== undefined; f = this.next()) frames.push(f);
    return frames;
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    return this.#concatHead(FRAME_HEADER_BYTES).readUInt32BE(0);
  }

  /** Merge leading chunks until the first holds `n` bytes. */
  #concatHead(n: number): Buffer {
    let merged = this.#chunks[0]!;
    let i = 1;
    while (merged.length < n) merged = Buffer.concat([merged, this.#chunks[i++]!]);
    this.#chunks.splice(0, i, merged);
    return merged;
  }

  /** The only place that slices across chunk boundaries. */
  #consume(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    return out;
  }
}

/** One frame: header and body in a single buffer, ready for one write(). */
export function encodeFrame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}
