/**
 * `store`/`restore` records: every `store` of a record adds a new version;
 * nothing is ever overwritten. The version number is taken inside the write's
 * transaction and (domain, name, ns, rid, version) is unique, so concurrent
 * writers to one record each get their own version.
 */
import type { Audit, HistoryLog } from './audit';
import { type Db, type TransactionRunner, atomicRunner } from './sqlite';
import { joinPairs, type Clock, type Pair, type UserRef } from './types';
import type { UsageTable } from './usage-table';

export interface RecordVersion {
  readonly version: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** The stored pairs, escaped, `k=v&k=v` in the order they were sent. */
  readonly pairs: string;
}

export interface RecordRow extends RecordVersion {
  readonly rid: string;
}

export class RecordTable {
  readonly #transaction: TransactionRunner;
  readonly #history: HistoryLog;
  readonly #usage: UsageTable;
  readonly #now: Clock;
  readonly #lastVersion;
  readonly #insert;
  readonly #versions;
  readonly #rowsAfter;

  constructor(db: Db, history: HistoryLog, usage: UsageTable, now: Clock) {
    this.#transaction = atomicRunner(db);
    this.#history = history;
    this.#usage = usage;
    this.#now = now;
    this.#lastVersion = db
      .prepare('SELECT max(version) FROM records WHERE domain = ? AND name = ? AND ns = ? AND rid = ?')
      .pluck();
    this.#insert = db.prepare(
      'INSERT INTO records (domain, name, ns, rid, version, at, by_host, pairs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#versions = db.prepare(
      'SELECT version, at, pairs FROM records WHERE domain = ? AND name = ? AND ns = ? AND rid = ? ORDER BY version',
    );
    this.#rowsAfter = db.prepare(
      `SELECT rid, version, at, pairs FROM records
        WHERE domain = ? AND name = ? AND ns = ? AND (rid, version) > (?, ?)
        ORDER BY rid, version LIMIT ?`,
    );
  }

  /** Append a new version of `rid`; answers its number. Refused past the user's quota, before anything is written. */
  store(user: UserRef, ns: string, rid: string, pairs: readonly Pair[], audit: Audit): number {
    return this.#transaction(() => {
      const payload = joinPairs(pairs);
      const history = `${rid}:${payload}`;
      this.#usage.charge(user, rid.length + payload.length + this.#history.bytesOf(ns, history));
      const last = (this.#lastVersion.get(user.domain, user.name, ns, rid) as number | null) ?? 0;
      const version = last + 1;
      this.#insert.run(user.domain, user.name, ns, rid, version, this.#now(), audit.byHost, payload);
      this.#history.add(user, ns, 'S', audit, history);
      return version;
    });
  }

  /** Every version of `rid`, oldest first; the caller may stop early. */
  versions(user: UserRef, ns: string, rid: string): IterableIterator<RecordVersion> {
    return this.#versions.iterate(user.domain, user.name, ns, rid) as IterableIterator<RecordVersion>;
  }

  /** Up to `limit` versions of all records after (rid, version), in (rid, version) order. */
  rowsAfter(user: UserRef, ns: string, after: { rid: string; version: number }, limit: number): RecordRow[] {
    return this.#rowsAfter.all(user.domain, user.name, ns, after.rid, after.version, limit) as RecordRow[];
  }
}
