/**
 * Durability of a WAL database without blocking the event loop.
 *
 * With `synchronous=FULL`, SQLite fsyncs the WAL inside every COMMIT, on the
 * thread that commits: our event loop. With `synchronous=NORMAL` it skips
 * exactly that fsync and nothing else (it still syncs the WAL before every
 * checkpoint, the database after it, and the WAL header when the WAL is
 * reused), so a committed transaction is durable once the WAL file's data
 * is on disk. WalSync does that part on libuv's thread pool:
 *
 *   commit (NORMAL, on the loop) ─▶ sync() ─▶ fdatasync(WAL) on the pool
 *                                               ─▶ the commit's waiters released
 *
 * Group commit: a sync covers every commit made before it started; commits
 * made while it runs wait for the next one, which starts as soon as it ends
 * and covers them all. The first creation of the WAL file is made durable
 * by an fsync of its directory when WalSync opens it (at start-up). SQLite
 * deletes or replaces the WAL file only when the last connection to the
 * database closes, and the daemon's own connection stays open as long as
 * this object lives, so the file descriptor always names the live WAL.
 * docs/spool.md explains why this is as durable as FULL.
 */
import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';

/** The databases whose commits a WalSync makes durable: the spool (critical messages) and the user store. */
export type SyncedDatabase = 'spool' | 'store';

/** How many syncs a WalSync made and how long they took: the disk's share of every `con_delayed` and durable reply. */
export interface SyncTotals {
  /** fdatasync calls made so far. */
  readonly syncs: number;
  /** Their time in all, seconds: from handing each to the thread pool until the loop hears it is done. */
  readonly seconds: number;
}

/** What a WalSync tells about itself (status, metrics, the bench). */
export interface SyncFigures extends SyncTotals {
  /** Be told each sync's time, seconds, as it ends (metrics). One listener. */
  observe(listener: (seconds: number) => void): void;
}

interface Waiter {
  readonly ticket: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** A SyncFigures' totals as plain data (the status reply). */
export function syncTotals(f: SyncFigures): SyncTotals {
  return { syncs: f.syncs, seconds: Math.round(f.seconds * 1e6) / 1e6 };
}

export class WalSync implements SyncFigures {
  readonly #walPath: string;
  #fd: number;
  /** Commits asked to be made durable, and the last one a finished sync covered. */
  #asked = 0;
  #waiters: Waiter[] = [];
  #running = false;
  #syncs = 0;
  #seconds = 0;
  #listener: ((seconds: number) => void) | undefined;

  /** `dbFile` must already be open in WAL mode with its `-wal` file created (after the first write). */
  constructor(dbFile: string) {
    this.#walPath = `${dbFile}-wal`;
    this.#fd = this.#open();
  }

  /** Is a sync running now? (Commits made meanwhile wait for the next one.) */
  get running(): boolean {
    return this.#running;
  }

  get syncs(): number {
    return this.#syncs;
  }

  get seconds(): number {
    return this.#seconds;
  }

  observe(listener: (seconds: number) => void): void {
    this.#listener = listener;
  }

  /** Resolves once every commit made before this call is on disk. */
  sync(): Promise<void> {
    const ticket = ++this.#asked;
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ ticket, resolve, reject }));
    if (!this.#running) this.#run();
    return done;
  }

  /** At shutdown: a last sync, on this thread, and the file closed. */
  close(): void {
    fdatasyncSync(this.#fd);
    closeSync(this.#fd);
  }

  #run(): void {
    this.#running = true;
    const covers = this.#asked;
    this.#syncs++;
    const started = performance.now();
    fdatasync(this.#fd, (err) => {
      const seconds = (performance.now() - started) / 1000;
      this.#seconds += seconds;
      this.#listener?.(seconds);
      this.#finish(covers, err ?? undefined);
    });
  }

  #finish(covered: number, err?: Error): void {
    this.#running = false;
    const done = this.#waiters.filter((w) => w.ticket <= covered);
    this.#waiters = this.#waiters.filter((w) => w.ticket > covered);
    for (const w of done) (err ? w.reject(err) : w.resolve());
    if (this.#waiters.length > 0) this.#run();
  }

  /** Open the WAL file and make its directory entry durable. */
  #open(): number {
    const fd = openSync(this.#walPath, 'r');
    const dir = openSync(dirname(this.#walPath), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return fd;
  }
}
