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
 */
import { badArgs } from '../errors';
import type { Db } from './sqlite';
import type { UserRef } from './types';

/** `enforce`: refuse a write that would pass the quota; `count`: charge it anyway (deletions, role grants). */
export type QuotaRule = 'enforce' | 'count';

export class UsageTable {
  readonly #db: Db;
  readonly #quotaBytes: () => number;
  readonly #bytes;
  readonly #add;

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

  /** Bytes stored for `user`. */
  bytes(user: UserRef): number {
    return (this.#bytes.get(user.domain, user.name) as number | undefined) ?? 0;
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
    const total = this.#add.get(user.domain, user.name, delta) as number;
    const quota = this.#quotaBytes();
    if (rule === 'enforce' && delta > 0 && quota > 0 && total > quota) {
      const used = total - delta;
      throw badArgs(`storage quota exceeded: ${user.name} in ${user.domain} stores ${used} of ${quota} bytes; this write needs ${delta} more`);
    }
  }
}
