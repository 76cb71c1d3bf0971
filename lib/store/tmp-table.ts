/**
 * Short-lived blobs (classic `<lonDaemons>/tmp/<id>.tmp`), e.g. search
 * results polled by the requester. Ids are random rather than classic's
 * pid/IP/counter, so one caller cannot guess another's entry.
 *
 * Expired rows are invisible at once and deleted a bounded batch at a time
 * on each `put`, so no call ever sweeps the whole table.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from './sqlite';
import type { Clock } from './types';

/** Expired rows removed per `put`: more than are created, so the table cannot grow without bound. */
const PURGE_ROWS_PER_PUT = 16;

export class TmpTable {
  readonly #now: Clock;
  readonly #insert;
  readonly #get;
  readonly #del;
  readonly #purge;

  constructor(db: Db, now: Clock) {
    this.#now = now;
    this.#insert = db.prepare('INSERT INTO tmp (id, data, by_host, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.#get = db.prepare('SELECT data FROM tmp WHERE id = ? AND expires_at > ?').pluck();
    this.#del = db.prepare('DELETE FROM tmp WHERE id = ? AND expires_at > ?');
    this.#purge = db.prepare(
      'DELETE FROM tmp WHERE id IN (SELECT id FROM tmp WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)',
    );
  }

  /** Keep `data` for `lifetimeMs`; answers the new id. */
  put(data: string, lifetimeMs: number, byHost: string): string {
    const now = this.#now();
    this.#purge.run(now, PURGE_ROWS_PER_PUT);
    const id = randomBytes(16).toString('hex');
    this.#insert.run(id, data, byHost, now, now + lifetimeMs);
    return id;
  }

  get(id: string): string | undefined {
    return this.#get.get(id, this.#now()) as string | undefined;
  }

  /** false when there was no live entry. */
  del(id: string): boolean {
    return this.#del.run(id, this.#now()).changes === 1;
  }
}
