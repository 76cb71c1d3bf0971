/**
 * Namespaces of key/value pairs (classic `<ns>.db`). Keys and values arrive
 * escaped and are stored in canonical escaped form, so a reply is built from
 * stored text without re-escaping. Every multi-statement write is atomic: a
 * transaction of its own, or a step of its caller's (sqlite.ts, atomicRunner).
 *
 * Each write first works out how many bytes it adds to the user's usage (the
 * rows it replaces are looked up by key, never scanned) and charges them, so
 * a write past the quota is refused before anything is written.
 */
import { escape, unescape } from '../client/escape';
import type { Audit, HistoryLog } from './audit';
import { type Db, type TransactionRunner, atomicRunner } from './sqlite';
import { joinPairs, type Pair, type UserRef } from './types';
import type { QuotaRule, UsageTable } from './usage-table';

export class KvTable {
  readonly #transaction: TransactionRunner;
  readonly #history: HistoryLog;
  readonly #usage: UsageTable;
  readonly #put;
  readonly #get;
  readonly #valueLength;
  readonly #del;
  readonly #keysAfter;
  readonly #pairsAfter;

  constructor(db: Db, history: HistoryLog, usage: UsageTable) {
    this.#transaction = atomicRunner(db);
    this.#history = history;
    this.#usage = usage;
    this.#put = db.prepare('INSERT OR REPLACE INTO kv (domain, name, ns, key, value) VALUES (?, ?, ?, ?, ?)');
    this.#get = db.prepare('SELECT value FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key = ?').pluck();
    this.#valueLength = db.prepare('SELECT length(value) FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key = ?').pluck();
    this.#del = db.prepare('DELETE FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key = ?');
    this.#keysAfter = db
      .prepare('SELECT key FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key > ? ORDER BY key LIMIT ?')
      .pluck();
    this.#pairsAfter = db
      .prepare('SELECT key, value FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key > ? ORDER BY key LIMIT ?')
      .raw();
  }

  /** `quota: 'count'` charges without refusing (role grants: an authority's decision, a few bytes). */
  put(user: UserRef, ns: string, pairs: readonly Pair[], audit: Audit, quota: QuotaRule = 'enforce'): void {
    this.#transaction(() => {
      const payload = joinPairs(pairs);
      this.#usage.charge(user, this.#growth(user, ns, new Map(pairs)) + this.#history.bytesOf(ns, payload), quota);
      for (const [k, v] of pairs) this.#put.run(user.domain, user.name, ns, k, v);
      this.#history.add(user, ns, 'P', audit, payload);
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

  /** Never refused by the quota: deleting is how a user at her quota makes room (the history still grows). */
  del(user: UserRef, ns: string, keys: readonly string[], audit: Audit): void {
    this.#transaction(() => {
      const payload = keys.join('&');
      const gone = new Map(keys.map((k) => [k, undefined]));
      this.#usage.charge(user, this.#growth(user, ns, gone) + this.#history.bytesOf(ns, payload), 'count');
      for (const k of keys) this.#del.run(user.domain, user.name, ns, k);
      this.#history.add(user, ns, 'D', audit, payload);
    });
  }

  /**
   * Add each delta to the number stored under its key. A missing or
   * non-numeric value counts as 0, as Perl's `+=` did in classic lond. The
   * new values are worked out first (a key may come twice), then charged,
   * then written.
   */
  inc(user: UserRef, ns: string, deltas: ReadonlyArray<readonly [string, number]>, audit: Audit): void {
    this.#transaction(() => {
      const next = new Map<string, string>();
      for (const [k, by] of deltas) {
        const old = Number(unescape(next.get(k) ?? this.getOne(user, ns, k) ?? '0'));
        next.set(k, escape(String((Number.isFinite(old) ? old : 0) + by)));
      }
      const payload = deltas.map(([k, by]) => `${k}=${escape(String(by))}`).join('&');
      this.#usage.charge(user, this.#growth(user, ns, next) + this.#history.bytesOf(ns, payload));
      for (const [k, v] of next) this.#put.run(user.domain, user.name, ns, k, v);
      this.#history.add(user, ns, 'I', audit, payload);
    });
  }

  /** Up to `limit` keys after `after` in key order (keyset paging: each page is one index range). */
  keysAfter(user: UserRef, ns: string, after: string, limit: number): string[] {
    return this.#keysAfter.all(user.domain, user.name, ns, after, limit) as string[];
  }

  pairsAfter(user: UserRef, ns: string, after: string, limit: number): Pair[] {
    return this.#pairsAfter.all(user.domain, user.name, ns, after, limit) as [string, string][];
  }

  /** Bytes the namespace grows by when each key gets its value here (undefined: deleted); one lookup per key. */
  #growth(user: UserRef, ns: string, next: ReadonlyMap<string, string | undefined>): number {
    let bytes = 0;
    for (const [k, v] of next) {
      const old = this.#valueLength.get(user.domain, user.name, ns, k) as number | undefined;
      if (old !== undefined) bytes -= k.length + old;
      if (v !== undefined) bytes += k.length + v.length;
    }
    return bytes;
  }
}
