/**
 * How much each user stores, and the per-user quota. Usage is the bytes of
 * the text kept for her — keys and values, record ids and pairs, history
 * payloads, activity-log text — not SQLite's own overhead.
 *
 * The counter is kept, never computed: each writer works out the change its
 * write makes (from indexed lookups of the rows it replaces) and charges it
 * here first, inside the write's transaction: a charge past the quota
 * throws, which rolls the transaction (and the charge) back, so a refused
 * write has written nothing and a rolled-back one is uncharged too. No write
 * scans a user's data. The schema step that created the table counted
 * existing data once.
 *
 * Inside a batch (`deferWhile`: a peer's frame run in one transaction) the
 * charges are summed in memory per user and written once, before the
 * batch commits: one upsert per user instead of one per write. The quota
 * check sees the same totals; a savepoint rolled back inside the batch
 * takes its charges back through `mark`/`undoTo` (user-store.ts calls them
 * around every nested transaction).
 */
import { badArgs } from '../errors';
import type { Db } from './sqlite';
import type { UserRef } from './types';

/** `enforce`: refuse a write that would pass the quota; `count`: charge it anyway (deletions, role grants). */
export type QuotaRule = 'enforce' | 'count';

/** One user's charges in the running batch: her stored total when the batch first charged her, and what it added since. */
interface PendingCharge {
  readonly user: UserRef;
  readonly base: number;
  delta: number;
}

export class UsageTable {
  readonly #db: Db;
  readonly #quotaBytes: () => number;
  readonly #bytes;
  readonly #add;
  /** While a batch runs: its charges by user (`domain \0 name`), and each charge in order, to undo a savepoint's. */
  #pending: Map<string, PendingCharge> | undefined;
  #charges: Array<[PendingCharge, number]> = [];

  /** `quotaBytes` is read at each write (a reload applies at once); 0 means no quota. */
  constructor(db: Db, quotaBytes: () => number) {
    this.#db = db;
    this.#quotaBytes = quotaBytes;
    this.#bytes = db.prepare('SELECT bytes FROM usage WHERE domain = ? AND name = ?').pluck();
    // One statement per charge: the new total comes back with the update.
    this.#add = db
      .prepare(
        `INSERT INTO usage (domain, name, bytes) VALUES (?, ?, ?)
           ON CONFLICT (domain, name) DO UPDATE SET bytes = bytes + excluded.bytes
           RETURNING bytes`,
      )
      .pluck();
  }

  /** Bytes stored for `user` (with the running batch's charges). */
  bytes(user: UserRef): number {
    const pending = this.#pending?.get(keyOf(user));
    return pending ? pending.base + pending.delta : this.#stored(user);
  }

  /** The per-user quota in bytes; 0 when there is none. */
  quota(): number {
    return this.#quotaBytes();
  }

  /**
   * Add `delta` bytes to `user`'s usage, inside the write's transaction,
   * before writing: with `enforce`, a write that grows her usage past the
   * quota throws `error:`, and the transaction's rollback takes the charge back.
   */
  charge(user: UserRef, delta: number, rule: QuotaRule = 'enforce'): void {
    if (delta === 0) return;
    if (!this.#db.inTransaction) throw new Error('a usage charge must be part of its write\'s transaction');
    if (this.#pending) {
      this.#chargeLater(this.#pending, user, delta, rule);
      return;
    }
    const total = this.#add.get(user.domain, user.name, delta) as number;
    const quota = this.#quotaBytes();
    if (rule === 'enforce' && delta > 0 && quota > 0 && total > quota) {
      const used = total - delta;
      throw overQuota(user, used, quota, delta);
    }
  }

  /**
   * Run `fn` (a batch, inside its transaction) with its charges kept in
   * memory, and write them, one statement per user, when it returns. If it
   * throws, its transaction rolls back and the charges are dropped with it.
   */
  deferWhile<T>(fn: () => T): T {
    if (this.#pending) return fn();
    const pending = (this.#pending = new Map());
    try {
      const result = fn();
      for (const p of pending.values()) if (p.delta !== 0) this.#add.get(p.user.domain, p.user.name, p.delta);
      return result;
    } finally {
      this.#pending = undefined;
      this.#charges = [];
    }
  }

  /** Where the running batch's charges stand (before a savepoint). */
  mark(): number {
    return this.#charges.length;
  }

  /** The savepoint taken at `mark` was rolled back: so are the charges made since. */
  undoTo(mark: number): void {
    while (this.#charges.length > mark) {
      const [pending, delta] = this.#charges.pop()!;
      pending.delta -= delta;
    }
  }

  #chargeLater(batch: Map<string, PendingCharge>, user: UserRef, delta: number, rule: QuotaRule): void {
    const key = keyOf(user);
    let pending = batch.get(key);
    if (pending === undefined) batch.set(key, (pending = { user, base: this.#stored(user), delta: 0 }));
    const used = pending.base + pending.delta;
    const quota = this.#quotaBytes();
    if (rule === 'enforce' && delta > 0 && quota > 0 && used + delta > quota) throw overQuota(user, used, quota, delta);
    pending.delta += delta;
    this.#charges.push([pending, delta]);
  }

  #stored(user: UserRef): number {
    return (this.#bytes.get(user.domain, user.name) as number | undefined) ?? 0;
  }
}

function keyOf(user: UserRef): string {
  return `${user.domain}\0${user.name}`;
}

function overQuota(user: UserRef, used: number, quota: number, delta: number): Error {
  return badArgs(`storage quota exceeded: ${user.name} in ${user.domain} stores ${used} of ${quota} bytes; this write needs ${delta} more`);
}
