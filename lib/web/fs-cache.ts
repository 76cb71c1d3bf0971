/**
 * stat() and realpath() results for the request path, through fs.promises
 * only, remembered for `ttlMs` (misses too: a 404 storm must not become a
 * syscall storm). Concurrent asks for one path share a single syscall.
 *
 * Staleness is bounded by the TTL, as with nginx's open_file_cache: a page
 * edited on disk is served at most `ttlMs` late. A TTL of 0 turns caching off.
 * The number of entries is bounded; the oldest are dropped first.
 */
import { realpath, stat } from 'node:fs/promises';
import { cachedAsync, type MaybePromise, TtlCache } from './ttl-cache';

export interface FileFacts {
  readonly kind: 'file' | 'directory' | 'other';
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** Enough for the hot set of a large site; each entry is a few hundred bytes. */
export const FS_CACHE_MAX_ENTRIES = 20_000;

export class FsCache {
  readonly #stats: TtlCache<MaybePromise<FileFacts | null>>;
  readonly #realpaths: TtlCache<MaybePromise<string | null>>;

  constructor(ttlMs: number) {
    this.#stats = new TtlCache(ttlMs, FS_CACHE_MAX_ENTRIES);
    this.#realpaths = new TtlCache(ttlMs, FS_CACHE_MAX_ENTRIES);
  }

  /** Facts about `path` (symlinks followed), or null if there is nothing there. */
  stat(path: string): MaybePromise<FileFacts | null> {
    return cachedAsync(this.#stats, path, () => statFacts(path));
  }

  /** The real path (every symlink resolved), or null if there is nothing there. */
  realpath(path: string): MaybePromise<string | null> {
    return cachedAsync(this.#realpaths, path, () => absentAsNull(realpath(path)));
  }

  async isFile(path: string): Promise<FileFacts | null> {
    const facts = await this.stat(path);
    return facts?.kind === 'file' ? facts : null;
  }

  async isDirectory(path: string): Promise<boolean> {
    return (await this.stat(path))?.kind === 'directory';
  }
}

async function statFacts(path: string): Promise<FileFacts | null> {
  const s = await absentAsNull(stat(path));
  if (s === null) return null;
  const kind = s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
  return { kind, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
}

/** The errors that mean "no such file" for a URL; anything else is a real failure. */
const ABSENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

async function absentAsNull<T>(pending: Promise<T>): Promise<T | null> {
  try {
    return await pending;
  } catch (err) {
    if (ABSENT_CODES.has((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw err;
  }
}
