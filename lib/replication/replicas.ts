/**
 * A subscriber's copies (classic: the files themselves and their atime).
 *
 * Reads are recorded in memory (`touch`: one Map write per request, no I/O)
 * and written to SQLite in one transaction every ACCESS_FLUSH_INTERVAL_MS and
 * at stop; `lastAccess` answers the later of the two, so the expiry decision
 * never misses a read that was not flushed yet.
 */
import { transactionRunner, type Db, type TransactionRunner } from '../store/sqlite';

export interface Replica {
  readonly url: string;
  /** The home server the copy came from. */
  readonly origin: string;
  readonly version: number;
  readonly size: number;
  readonly sha256: string;
  readonly fetchedAt: number;
  readonly lastAccess: number;
}

/** How often recorded reads reach SQLite, ms. */
export const ACCESS_FLUSH_INTERVAL_MS = 10_000;
/** Reads flushed per transaction: bounds the synchronous work of one flush. */
const ACCESS_FLUSH_ROWS = 1_000;

export class ReplicaTable {
  readonly #transaction: TransactionRunner;
  readonly #upsert;
  readonly #get;
  readonly #remove;
  readonly #list;
  readonly #touch;
  /** url → last read (ms), not yet written. */
  #reads = new Map<string, number>();

  constructor(db: Db) {
    this.#transaction = transactionRunner(db);
    this.#upsert = db.prepare(
      `INSERT OR REPLACE INTO res_replicas (url, origin, version, size, sha256, fetched_at, last_access)
       VALUES (@url, @origin, @version, @size, @sha256, @fetchedAt, @lastAccess)`,
    );
    this.#get = db.prepare(
      `SELECT url, origin, version, size, sha256, fetched_at AS fetchedAt, last_access AS lastAccess
         FROM res_replicas WHERE url = ?`,
    );
    this.#remove = db.prepare('DELETE FROM res_replicas WHERE url = ?');
    this.#list = db.prepare(
      `SELECT url, origin, version, size, sha256, fetched_at AS fetchedAt, last_access AS lastAccess
         FROM res_replicas WHERE url > ? ORDER BY url LIMIT ?`,
    );
    this.#touch = db.prepare('UPDATE res_replicas SET last_access = max(last_access, ?) WHERE url = ?');
  }

  record(replica: Replica): void {
    this.#upsert.run(replica);
  }

  get(url: string): Replica | undefined {
    const row = this.#get.get(url) as Replica | undefined;
    if (row === undefined) return undefined;
    const read = this.#reads.get(url);
    return read !== undefined && read > row.lastAccess ? { ...row, lastAccess: read } : row;
  }

  remove(url: string): void {
    this.#reads.delete(url);
    this.#remove.run(url);
  }

  /** One page of copies in URL order, after `afterUrl`. */
  page(afterUrl: string, limit: number): Replica[] {
    return (this.#list.all(afterUrl, limit) as Replica[]).map((r) => {
      const read = this.#reads.get(r.url);
      return read !== undefined && read > r.lastAccess ? { ...r, lastAccess: read } : r;
    });
  }

  /** A read of `url` now: memory only. */
  touch(url: string, now: number): void {
    this.#reads.set(url, now);
  }

  get unflushedReads(): number {
    return this.#reads.size;
  }

  /** Write recorded reads, at most ACCESS_FLUSH_ROWS per call (the rest wait for the next). */
  flushReads(): void {
    if (this.#reads.size === 0) return;
    const batch: Array<[string, number]> = [];
    for (const entry of this.#reads) {
      batch.push(entry);
      if (batch.length >= ACCESS_FLUSH_ROWS) break;
    }
    this.#transaction(() => {
      for (const [url, at] of batch) this.#touch.run(at, url);
    });
    for (const [url, at] of batch) if (this.#reads.get(url) === at) this.#reads.delete(url);
  }
}
