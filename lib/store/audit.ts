/**
 * The audit trail: the per-namespace change history (classic `<ns>.hist`)
 * and the per-user activity log (classic `activity.log`).
 */
import { HeldRows } from './held-rows';
import { type Db, type TransactionRunner, atomicRunner } from './sqlite';
import type { Clock, UserRef } from './types';
import type { UsageTable } from './usage-table';

/** Who caused a change: the calling host, and for role changes the user who made it. */
export interface Audit {
  readonly byHost: string;
  readonly executor?: UserRef;
}

export type HistoryOp = 'P' | 'D' | 'I' | 'S';

/**
 * Both logs are append-only and nothing reads them back while a batch runs,
 * so inside a batch their rows are held in memory and written together
 * before it commits (held-rows.ts). A command whose only writes are held
 * ones needs no savepoint at all (`UserStore.heldWrite`).
 */
export class HistoryLog {
  readonly #now: Clock;
  /** Rows held while a batch runs. */
  readonly held: HeldRows;

  constructor(db: Db, now: Clock) {
    this.#now = now;
    this.held = new HeldRows(db, 'history', ['domain', 'name', 'ns', 'op', 'at', 'by_host', 'executor', 'payload']);
  }

  /** `nohist_` namespaces keep no history, as in classic lond (they hold bulky caches). */
  keeps(ns: string): boolean {
    return !ns.startsWith('nohist_');
  }

  /** Bytes that adding `payload` to `ns`'s history stores (for the user's usage). */
  bytesOf(ns: string, payload: string): number {
    return this.keeps(ns) ? payload.length : 0;
  }

  add(user: UserRef, ns: string, op: HistoryOp, audit: Audit, payload: string): void {
    if (!this.keeps(ns)) return;
    const executor = audit.executor ? `${audit.executor.name}:${audit.executor.domain}` : null;
    this.held.add([user.domain, user.name, ns, op, this.#now(), audit.byHost, executor, payload]);
  }
}

export class ActivityLog {
  readonly #now: Clock;
  readonly #usage: UsageTable;
  readonly #transaction: TransactionRunner;
  /** Lines held while a batch runs. */
  readonly held: HeldRows;

  constructor(db: Db, now: Clock, usage: UsageTable) {
    this.#now = now;
    this.#usage = usage;
    this.#transaction = atomicRunner(db);
    this.held = new HeldRows(db, 'activity', ['domain', 'name', 'at', 'by_host', 'text']);
  }

  append(user: UserRef, byHost: string, text: string): void {
    // The charge first: a refused line is never written (nor held, in a batch).
    this.#transaction(() => {
      this.#usage.charge(user, Buffer.byteLength(text));
      this.held.add([user.domain, user.name, this.#now(), byHost, text]);
    });
  }
}
