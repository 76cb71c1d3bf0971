/**
 * One daemon per spool directory. `SPOOL/loncapad.pid` holds the owner's
 * pid; a file whose process is gone was left by a crash and is taken over.
 * The lock is taken before any socket file is touched, so a stale socket can
 * be replaced safely.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoncapadError } from './errors';

export function pidFile(spool: string): string {
  return join(spool, 'loncapad.pid');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquirePidLock(spool: string): () => void {
  const file = pidFile(spool);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // already removed by an operator: nothing left to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new LoncapadError('LC_ERR_ALREADY_RUNNING', `another loncapad (pid ${owner}) already runs on ${spool}`);
    }
    unlinkSync(file); // stale: its daemon is gone
  }
  throw new LoncapadError('LC_ERR_ALREADY_RUNNING', `could not take ${file}`);
}
