/**
 * The home side of a copy travelling over the encrypted peer link:
 *
 *   subscriber                              home
 *   fetch:<url>                        ──▶  open the file once (a version
 *                                           published meanwhile is renamed
 *                                           over the name, not into this fd),
 *                                           its size and SHA-256
 *                                      ◀──  ok:<handle>:<size>:<sha256>:<version>:<meta>
 *   fetchpart:<handle>:<offset>:<len>  ──▶  read that range from the fd
 *   (a window of them in flight)       ◀──  the bytes, base64
 *   fetchend:<handle>                  ──▶  close
 *
 * A chunk is CHUNK_BYTES, whose base64 is exactly one reply message below
 * the fragment size, so chunks are never reassembled and each frame carries
 * a bounded number of them. The size and digest travel over the
 * authenticated link; the subscriber checks the bytes against them.
 *
 * Transfers are bound to the host that opened them, bounded in number, and
 * closed when idle for TRANSFER_IDLE_MS. SHA-256 of a file is computed once
 * per version (keyed by device, inode, size and mtime) while reading it in
 * bounded pieces; publication primes it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { LoncapadError } from '../errors';
import { sha256OfHandle } from './files';
import type { FaultHooks } from './test-hooks';

/** Raw bytes per chunk: 48 KiB → 65,536 base64 characters, one reply message. */
export const CHUNK_BYTES = 48 * 1024;
/** Open transfers on this home, in total and per subscriber. */
const MAX_TRANSFERS = 256;
const MAX_TRANSFERS_PER_HOST = 32;
/** A transfer nobody read from for this long is closed, ms. */
const TRANSFER_IDLE_MS = 60_000;
const SWEEP_INTERVAL_MS = 10_000;
/** Digests remembered (one per file version). */
const DIGEST_CACHE_ENTRIES = 4_096;

interface Transfer {
  readonly host: string;
  readonly url: string;
  readonly fh: FileHandle;
  readonly size: number;
  lastUse: number;
}

export interface OpenedTransfer {
  readonly handle: string;
  readonly size: number;
  readonly sha256: string;
}

export class TransferServer {
  readonly #transfers = new Map<string, Transfer>();
  readonly #digests = new Map<string, string>();
  readonly #digesting = new Map<string, Promise<string>>();
  readonly #faults: FaultHooks;
  readonly #sweep: NodeJS.Timeout;
  #next = 1;

  constructor(faults: FaultHooks) {
    this.#faults = faults;
    this.#sweep = setInterval(() => this.#expiredIdle(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  get open(): number {
    return this.#transfers.size;
  }

  async start(host: string, url: string, file: string): Promise<OpenedTransfer> {
    if (this.#transfers.size >= MAX_TRANSFERS || this.#countOf(host) >= MAX_TRANSFERS_PER_HOST) {
      throw new LoncapadError('LC_ERR_TRANSIENT', 'too many transfers open, try again');
    }
    await this.#faults.gate(url);
    if (this.#faults.has(url, 'fail')) throw new LoncapadError('LC_ERR_TRANSIENT', 'test fault: fetch fails');
    const fh = await open(file, 'r');
    try {
      const st = await fh.stat();
      const sha256 = await this.#digestOf(fh, st);
      const handle = String(this.#next++);
      this.#transfers.set(handle, { host, url, fh, size: st.size, lastUse: Date.now() });
      return { handle, size: st.size, sha256 };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Bytes [offset, offset + length) of an open transfer, base64. */
  async read(host: string, handle: string, offset: number, length: number): Promise<string> {
    const t = this.#transfers.get(handle);
    if (t === undefined || t.host !== host) throw new LoncapadError('LC_ERR_BAD_ARGS', 'no such transfer');
    if (length > CHUNK_BYTES || offset + length > t.size) throw new LoncapadError('LC_ERR_BAD_ARGS', 'range outside the file');
    t.lastUse = Date.now();
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await t.fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (offset === 0 && got > 0 && this.#faults.has(t.url, 'corrupt')) buf[0] ^= 0xff;
    if (offset + got === t.size && got > 0 && this.#faults.has(t.url, 'truncate')) got--;
    return buf.toString('base64', 0, got);
  }

  /** false when there was no such transfer of this host. */
  async end(host: string, handle: string): Promise<boolean> {
    const t = this.#transfers.get(handle);
    if (t === undefined || t.host !== host) return false;
    this.#transfers.delete(handle);
    await t.fh.close();
    return true;
  }

  /** A freshly published version: remember its digest (computed while it was written). */
  primeDigest(st: Stats, sha256: string): void {
    this.#remember(digestKey(st), sha256);
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweep);
    const all = [...this.#transfers.values()];
    this.#transfers.clear();
    await Promise.all(all.map((t) => t.fh.close()));
  }

  #countOf(host: string): number {
    let n = 0;
    for (const t of this.#transfers.values()) if (t.host === host) n++;
    return n;
  }

  async #digestOf(fh: FileHandle, st: Stats): Promise<string> {
    const key = digestKey(st);
    const known = this.#digests.get(key);
    if (known !== undefined) return known;
    let running = this.#digesting.get(key);
    if (running === undefined) {
      running = sha256OfHandle(fh, st.size).finally(() => this.#digesting.delete(key));
      this.#digesting.set(key, running);
    }
    const sha = await running;
    this.#remember(key, sha);
    return sha;
  }

  #remember(key: string, sha256: string): void {
    this.#digests.delete(key);
    this.#digests.set(key, sha256);
    if (this.#digests.size > DIGEST_CACHE_ENTRIES) this.#digests.delete(this.#digests.keys().next().value!);
  }

  #expiredIdle(): void {
    const before = Date.now() - TRANSFER_IDLE_MS;
    for (const [handle, t] of this.#transfers) {
      if (t.lastUse >= before) continue;
      this.#transfers.delete(handle);
      // Closing a read-only descriptor has no failure anyone could act on.
      void t.fh.close().catch(() => undefined);
    }
  }
}

function digestKey(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}
