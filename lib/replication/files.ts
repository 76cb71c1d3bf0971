/**
 * File work of replication and publication, all through fs.promises: atomic
 * installs (temp file, fsync, rename, fsync of the directory) and SHA-256
 * computed while the bytes stream, never over a whole file held in memory.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Read size when hashing a file: bounds memory and the synchronous hash step per read. */
const HASH_READ_BYTES = 256 * 1024;

/** SHA-256 (hex) of the first `size` bytes of an open file, read in bounded pieces. */
export async function sha256OfHandle(fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(HASH_READ_BYTES, Math.max(size, 1)));
  for (let at = 0; at < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
    if (bytesRead === 0) throw new Error('file shorter than its size');
    hash.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
  return hash.digest('hex');
}

/** fsync a directory, so that a rename in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replace `file` with `data` atomically: readers see the old or the new content, never a part. */
export async function writeFileAtomic(file: string, data: string | Buffer, tmp: string): Promise<void> {
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await fsyncDir(dirname(file));
}

/** Remove files that may or may not be there. */
export async function removeQuietly(...files: string[]): Promise<void> {
  await Promise.all(files.map((f) => rm(f, { force: true })));
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
