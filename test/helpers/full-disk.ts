/**
 * A small disk that a test can fill: a tmpfs mounted for the test (root
 * only; the tests that need one skip, saying why, without it).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import type { Tap } from './network';

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
export function cannotMountTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no mount command';
  }
  return undefined;
}

/** Mount a tmpfs of `size` (e.g. `24m`) on `dir`, unmounted when the test ends. */
export function mountTmpfs(t: Tap, dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.teardown(() => execFileSync('umount', ['-l', dir]));
}

/** Write zeros into `file` until the file system is full; returns the bytes written. */
export function fill(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (let chunk = 1024 * 1024; chunk >= 512; ) {
      try {
        written += writeSync(fd, Buffer.alloc(chunk));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        chunk /= 2;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
