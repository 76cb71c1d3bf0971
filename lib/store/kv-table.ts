/**
 * Namespaces of key/value pairs (classic `<ns>.db`). Keys and values arrive
 * escaped and are stored in canonical escaped form, so a reply is built from
 * stored text without re-escaping. Every multi-statement write runs in its own
 * transaction, which is a savepoint inside the dispatcher's transaction.
 */
import { escape, unescape } from '../client/escape';
import type { Audit, HistoryLog } from './audit';
import { type Db, type TransactionRunner, transactionRunner } from './sqlite';
import { joinPairs, type Pair, type UserRef } from './types';

export class KvTable {
  readonly #transaction: TransactionRunner;
  readonly #history: HistoryLog;
  readonly #put;
  readonly #get;
  readonly #del;
  readonly #keysAfter;
  readonly #pairsAfter;

  constructor(db: Db, history: HistoryLog) {
    this.#transaction = transactionRunner(db);
    this.#history = history;
    this.#put = db.prepare('INSERT OR REPLACE INTO kv (domain, name, ns, key, value) VALUES (?, ?, ?, ?, ?)');
    this.#get = db.prepare('SELECT value FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key = ?').pluck();
    this.#del = db.prepare('DELETE FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key = ?');
    this.#keysAfter = db
      .prepare('SELECT key FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key > ? ORDER BY key LIMIT ?')
      .pluck();
    this.#pairsAfter = db
      .prepare('SELECT key, value FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key > ? ORDER BY key LIMIT ?')
      .raw();
  }

  put(user: UserRef, ns: string, pairs: readonly Pair[], audit: Audit): void {
    this.#transaction(() => {
      for (const [k, v] of pairs) this.#put.run(user.domain, user.name, ns, k, v);
      this.#history.add(user, ns, 'P', audit, joinPairs(pairs));
    });
  }

  /** Put only if none of the keys exists; answers the first existing key instead. */
  newPut(user: UserRef, ns: string, pairs: readonly Pair[], audit: Audit): string | undefined {
    return this.#transaction(() => {
      const taken = pairs.find(([k]) => this.getOne(user, ns, k) !== undefined);
      if (taken) return taken[0];
      this.put(user, ns, pairs, audit);
      return undefined;
    });
  }

  /** Values in the order asked; a missing key answers the empty string. */
  get(user: UserRef, ns: string, keys: readonly string[]): string[] {
    return keys.map((k) => this.getOne(user, ns, k) ?? '');
  }

  getOne(user: UserRef, ns: string, key: string): string | undefined {
    return this.#get.get(user.domain, user.name, ns, key) as string | undefined;
  }

  del(user: UserRef, ns: string, keys: readonly string[], audit: Audit): void {
    this.#transaction(() => {
      for (const k of keys) this.#del.run(user.domain, user.name, ns, k);
      this.#history.add(user, ns, 'D', audit, keys.join('&'));
    });
  }

  /**
   * Add each delta to the number stored under its key. A missing or
   * non-numeric value counts as 0, as Perl's `+=` did in classic lond.
   */
  inc(user: UserRef, ns: string, deltas: ReadonlyArray<readonly [string, number]>, audit: Audit): void {
    this.#transaction(() => {
      for (const [k, by] of deltas) {
        const old = Number(unescape(this.getOne(user, ns, k) ?? '0'));
        this.#put.run(user.domain, user.name, ns, k, escape(String((Number.isFinite(old) ? old : 0) + by)));
      }
      this.#history.add(user, ns, 'I', audit, deltas.map(([k, by]) => `${k}=${escape(String(by))}`).join('&'));
    });
  }

  /** Up to `limit` keys after `after` in key order (keyset paging: each page is one index range). */
  keysAfter(user: UserRef, ns: string, after: string, limit: number): string[] {
    return this.#keysAfter.all(user.domain, user.name, ns, after, limit) as string[];
  }

  pairsAfter(user: UserRef, ns: string, after: string, limit: number): Pair[] {
    return this.#pairsAfter.all(user.domain, user.name, ns, after, limit) as [string, string][];
  }
}
