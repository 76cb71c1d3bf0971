/**
 * Contents of small static files kept in memory, so that the common case
 * (icons, stylesheets, small pages) costs no open/read/close per request.
 *
 * An entry is valid only for the exact (inode, size, mtime) it was read
 * with, and those come from FsCache, so a changed file is re-read as soon as
 * its stat entry expires. Bounded in total bytes; the least recently used
 * go first, approximately: a hit only marks its entry (no reordering on the
 * request path), and eviction gives a marked entry a second chance (CLOCK).
 */
import { readFile, type FileHandle } from 'node:fs/promises';
import type { FileFacts } from './fs-cache';

/** Larger files are streamed from disk. */
export const BODY_CACHE_MAX_FILE_BYTES = 256 * 1024;
/** Total memory the cache may hold. */
export const BODY_CACHE_MAX_TOTAL_BYTES = 32 * 1024 * 1024;

interface Entry {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly body: Buffer;
  /** Hit since eviction last passed it. */
  used: boolean;
}

export class BodyCache {
  /** Oldest first (insertion order); a second chance moves an entry to the end. */
  readonly #entries = new Map<string, Entry>();
  readonly #maxTotalBytes: number;
  #totalBytes = 0;

  constructor(maxTotalBytes = BODY_CACHE_MAX_TOTAL_BYTES) {
    this.#maxTotalBytes = maxTotalBytes;
  }

  /**
   * The file's bytes if it is small enough to cache, else undefined (stream it).
   * `opened`: read a miss from this handle (whose fstat gave `facts`) rather than by path.
   */
  get(realPath: string, facts: FileFacts, opened?: FileHandle): Buffer | undefined | Promise<Buffer | undefined> {
    if (facts.size > BODY_CACHE_MAX_FILE_BYTES) return undefined;
    const hit = this.#entries.get(realPath);
    if (hit !== undefined && hit.ino === facts.ino && hit.size === facts.size && hit.mtimeMs === facts.mtimeMs) {
      hit.used = true;
      return hit.body; // no promise: a hit is served in the same turn
    }
    return this.#read(realPath, facts, opened);
  }

  async #read(realPath: string, facts: FileFacts, opened?: FileHandle): Promise<Buffer> {
    const body = await readFile(opened ?? realPath);
    // A file rewritten between stat and read does not match its facts: serve it, do not keep it.
    if (body.length === facts.size) this.#store(realPath, { ino: facts.ino, size: facts.size, mtimeMs: facts.mtimeMs, body, used: false });
    return body;
  }

  #store(realPath: string, entry: Entry): void {
    this.#remove(realPath);
    this.#entries.set(realPath, entry);
    this.#totalBytes += entry.body.length;
    // Each entry is passed at most twice (its mark is cleared the first time), so this ends.
    for (const [path, oldest] of this.#entries) {
      if (this.#totalBytes <= this.#maxTotalBytes) break;
      if (oldest.used && oldest !== entry) {
        oldest.used = false;
        this.#entries.delete(path);
        this.#entries.set(path, oldest);
      } else {
        this.#remove(path);
      }
    }
  }

  #remove(realPath: string): void {
    const entry = this.#entries.get(realPath);
    if (entry === undefined) return;
    this.#entries.delete(realPath);
    this.#totalBytes -= entry.body.length;
  }
}
