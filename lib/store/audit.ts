/**
 * The audit trail: the per-namespace change history (classic `<ns>.hist`)
 * and the per-user activity log (classic `activity.log`).
 */
import { type Db, type TransactionRunner, atomicRunner, placeholders, preparedBySize } from './sqlite';
import type { Clock, UserRef } from './types';
import type { UsageTable } from './usage-table';

/** Who caused a change: the calling host, and for role changes the user who made it. */
export interface Audit {
  readonly byHost: string;
  readonly executor?: UserRef;
}

export type HistoryOp = 'P' | 'D' | 'I' | 'S';

export class HistoryLog {
  readonly #add;
  readonly #now: Clock;

  constructor(db: Db, now: Clock) {
    this.#now = now;
    this.#add = db.prepare(
      'INSERT INTO history (domain, name, ns, op, at, by_host, executor, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
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
    this.#add.run(user.domain, user.name, ns, op, this.#now(), audit.byHost, executor, payload);
  }
}

/** Activity lines per statement when a batch writes them (5 parameters a row: well under SQLite's limit). */
const ACTIVITY_CHUNK = 64;

type ActivityRow = readonly [domain: string, name: string, at: number, byHost: string, text: string];

/**
 * The activity log is append-only and nothing reads it back while a batch
 * runs, so inside a batch (`deferWhile`: a peer's frame run in one
 * transaction) its lines are held in memory and written together, in
 * order, before the batch commits: one statement per ACTIVITY_CHUNK lines
 * instead of one each. A savepoint rolled back inside the batch drops its
 * lines through `mark`/`undoTo` (user-store.ts calls them around every
 * nested transaction), as the usage table does with its charges; a command
 * whose only writes are held ones needs no savepoint at all
 * (`UserStore.heldWrite`).
 */
export class ActivityLog {
  readonly #add;
  readonly #addMany;
  readonly #now: Clock;
  readonly #usage: UsageTable;
  readonly #transaction: TransactionRunner;
  /** While a batch runs: its lines, in order. */
  #pending: ActivityRow[] | undefined;

  constructor(db: Db, now: Clock, usage: UsageTable) {
    this.#now = now;
    this.#usage = usage;
    this.#transaction = atomicRunner(db);
    this.#add = db.prepare('INSERT INTO activity (domain, name, at, by_host, text) VALUES (?, ?, ?, ?, ?)');
    this.#addMany = preparedBySize((n) => db.prepare(`INSERT INTO activity (domain, name, at, by_host, text) VALUES ${placeholders(n, '(?, ?, ?, ?, ?)')}`));
  }

  append(user: UserRef, byHost: string, text: string): void {
    if (this.#pending) {
      // The charge first: a refused line is never held.
      this.#usage.charge(user, Buffer.byteLength(text));
      this.#pending.push([user.domain, user.name, this.#now(), byHost, text]);
      return;
    }
    this.#transaction(() => {
      this.#usage.charge(user, Buffer.byteLength(text));
      this.#add.run(user.domain, user.name, this.#now(), byHost, text);
    });
  }

  /**
   * Run `fn` (a batch, inside its transaction) with its lines held in
   * memory, and write them when it returns. If it throws, its transaction
   * rolls back and the lines are dropped with it.
   */
  deferWhile<T>(fn: () => T): T {
    if (this.#pending) return fn();
    const pending: ActivityRow[] = (this.#pending = []);
    try {
      const result = fn();
      this.#writeAll(pending);
      return result;
    } finally {
      this.#pending = undefined;
    }
  }

  /** Where the running batch's lines stand (before a savepoint). */
  mark(): number {
    return this.#pending?.length ?? 0;
  }

  /** The savepoint taken at `mark` was rolled back: so are the lines appended since. */
  undoTo(mark: number): void {
    if (this.#pending && this.#pending.length > mark) this.#pending.length = mark;
  }

  #writeAll(rows: readonly ActivityRow[]): void {
    for (let i = 0; i < rows.length; i += ACTIVITY_CHUNK) {
      const n = Math.min(ACTIVITY_CHUNK, rows.length - i);
      const params = new Array<string | number>(n * 5);
      for (let r = 0; r < n; r++) {
        const row = rows[i + r]!;
        for (let c = 0; c < 5; c++) params[r * 5 + c] = row[c]!;
      }
      this.#addMany(n).run(params);
    }
  }
}
