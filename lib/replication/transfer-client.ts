/**
 * The subscriber side of a transfer (see transfer-server.ts): receive the
 * current version of a resource from its home into `<file>.in.transfer`.
 *
 *   fetch ─▶ size, SHA-256, version, meta (over the authenticated link)
 *   a window of fetchpart requests in flight; chunks are taken in order:
 *     decode ─▶ hash ─▶ write at their offset ─▶ ask for the next one
 *   all bytes in ─▶ size and digest match? ─▶ fsync ─▶ the caller renames
 *   anything else ─▶ the work file is removed, TransferFailed
 *
 * Memory is bounded by the window (WINDOW_CHUNKS × 64 KiB per transfer, and
 * a budget per home across transfers); the disk sets the pace, since the
 * next request leaves only once a chunk is written.
 */
import { createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { unescape } from '../client/escape';
import { isTransientReply } from '../errors';
import { removeQuietly } from './files';
import { refusalOf, TransferFailed, unavailable } from './outcome';
import type { Budget } from './budget';
import { CHUNK_BYTES } from './transfer-server';

/** Chunk requests in flight per transfer. */
export const WINDOW_CHUNKS = 4;

export interface ReceivedCopy {
  readonly size: number;
  readonly sha256: string;
  readonly version: number;
  /** The `.meta` text the home sent ('' when it has none). */
  readonly meta: string;
}

export interface ReceiveOptions {
  /** Send a command to the home; resolves with the classic reply (never rejects). */
  readonly ask: (command: string) => Promise<string>;
  readonly url: string;
  /** The work file (`<file>.in.transfer`). */
  readonly work: string;
  /** Chunks in flight to this home across transfers. */
  readonly budget: Budget;
}

const OPENED_RE = /^ok:(\w+):(\d+):([0-9a-f]{64}):(\d+):(.*)$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export async function receiveCopy(o: ReceiveOptions): Promise<ReceivedCopy> {
  const opened = await o.ask(`fetch:${o.url}`);
  const m = OPENED_RE.exec(opened);
  if (!m) {
    throw new TransferFailed(refusalOf(opened) ?? unavailable(`home answered fetch with ${opened.slice(0, 100)}`));
  }
  const [handle, size, sha256, version, meta] = [m[1]!, Number(m[2]), m[3]!, Number(m[4]), unescape(m[5]!)];
  try {
    await mkdir(dirname(o.work), { recursive: true });
    const got = await receiveChunks(o, handle, size);
    if (got !== sha256) throw new TransferFailed(unavailable(`digest mismatch: expected ${sha256}, received ${got}`));
    return { size, sha256, version, meta };
  } catch (err) {
    await removeQuietly(o.work);
    throw err;
  } finally {
    void o.ask(`fetchend:${handle}`);
  }
}

/** Receive `size` bytes into the work file; answers their SHA-256. */
async function receiveChunks(o: ReceiveOptions, handle: string, size: number): Promise<string> {
  const fh = await open(o.work, 'w', 0o644);
  try {
    const hash = createHash('sha256');
    const pending: Array<{ readonly offset: number; readonly length: number; readonly reply: Promise<string> }> = [];
    let asked = 0;
    const askMore = async (): Promise<void> => {
      while (pending.length < WINDOW_CHUNKS && asked < size) {
        const length = Math.min(CHUNK_BYTES, size - asked);
        await o.budget.take();
        const reply = o.ask(`fetchpart:${handle}:${asked}:${length}`).finally(() => o.budget.give());
        pending.push({ offset: asked, length, reply });
        asked += length;
      }
    };
    await askMore();
    while (pending.length > 0) {
      const next = pending.shift()!;
      const bytes = decodeChunk(await next.reply, next.length);
      hash.update(bytes);
      await fh.write(bytes, 0, bytes.length, next.offset);
      await askMore();
    }
    await fh.sync();
    return hash.digest('hex');
  } catch (err) {
    // Chunks still in flight answer into nothing; their budget is given back as they settle.
    throw err instanceof TransferFailed ? err : new TransferFailed(unavailable(`transfer failed: ${(err as Error).message}`));
  } finally {
    await fh.close();
  }
}

function decodeChunk(reply: string, length: number): Buffer {
  if (reply === 'con_lost' || isTransientReply(reply) || reply.startsWith('error:') || !BASE64_RE.test(reply)) {
    throw new TransferFailed(unavailable(`chunk answered ${reply.slice(0, 100)}`));
  }
  const bytes = Buffer.from(reply, 'base64');
  if (bytes.length !== length) throw new TransferFailed(unavailable(`short chunk: ${bytes.length} of ${length} bytes`));
  return bytes;
}
