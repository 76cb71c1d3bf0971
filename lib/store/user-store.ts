/**
 * The user data store (`SPOOL/data.sqlite`): users' namespaces of key/value
 * pairs, store/restore records, authentication records, the domain id map,
 * short-lived blobs, the change history and activity log, and the applied-id
 * records that give critical messages their exactly-once effect.
 *
 * One object per concern (`kv`, `records`, `users`, `ids`, `tmp`,
 * `activity`, `usage`, `applied`) over one connection. Every statement is prepared once; every
 * call is one indexed query or a bounded page of one, so no call grows with
 * the size of the store. docs/store.md documents the schema for operators.
 */
import { badArgs } from '../errors';
import { AppliedTable } from './applied-table';
import { ActivityLog, HistoryLog } from './audit';
import { IdMap } from './id-map';
import { KvTable } from './kv-table';
import { RecordTable } from './record-table';
import { migrate, openDatabase, transactionRunner, type Db, type TransactionRunner } from './sqlite';
import { TmpTable } from './tmp-table';
import { WalSync, type SyncFigures } from './wal-sync';
import type { Clock } from './types';
import { USER_STORE_SCHEMA } from './user-schema';
import { UsageTable } from './usage-table';
import { UserTable } from './user-table';

export type { AppliedRow, AppliedTable } from './applied-table';
export type { Audit } from './audit';
export type { RecordRow, RecordVersion } from './record-table';
export type { AuthRecord } from './user-table';
export type { Clock, Pair, UserRef } from './types';
export type { QuotaRule } from './usage-table';

/** Names of domains and users: as classic lond allowed them, and safe as file names. */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;
/** Namespaces: word characters only (classic lond stripped the rest; we refuse it). */
const NAMESPACE_RE = /^\w{1,128}$/;

export function checkName(what: string, value: string): string {
  if (!NAME_RE.test(value)) throw badArgs(`bad ${what}`);
  return value;
}

export function checkNamespace(value: string): string {
  if (!NAMESPACE_RE.test(value)) throw badArgs('bad namespace');
  return value;
}

/** A part that holds a batch's writes in memory until it commits (usage-table.ts, held-rows.ts). */
interface HeldInBatch {
  mark(): number;
  undoTo(mark: number): void;
  deferWhile<T>(fn: () => T): T;
}

export interface UserStoreOptions {
  /** Clock for timestamps and tmp expiry; default `Date.now`. */
  readonly now?: Clock;
  /** Per-user quota in bytes, read at each write; default (and 0): none. */
  readonly quotaBytes?: () => number;
}

export class UserStore {
  readonly db: Db;
  readonly kv: KvTable;
  readonly records: RecordTable;
  readonly users: UserTable;
  readonly ids: IdMap;
  readonly tmp: TmpTable;
  readonly activity: ActivityLog;
  readonly usage: UsageTable;
  /** Critical messages applied here, by sender: their exactly-once effect. */
  readonly applied: AppliedTable;
  readonly #transaction: TransactionRunner;
  readonly #walSync: WalSync;
  readonly #syncNormal;
  readonly #syncFull;
  /** A batch (`transactionSyncedLater`) is running: its usage charges and log rows are held in memory. */
  #inBatch = false;
  /** What a batch holds in memory until it commits: usage charges, activity lines, history rows. */
  readonly #held: readonly HeldInBatch[];

  constructor(file: string, options: UserStoreOptions = {}) {
    this.db = openDatabase(file);
    migrate(this.db, 'user-store', USER_STORE_SCHEMA); // its first write creates the -wal file WalSync opens
    this.#transaction = transactionRunner(this.db);
    this.#walSync = new WalSync(file);
    this.#syncNormal = this.db.prepare('PRAGMA synchronous = NORMAL');
    this.#syncFull = this.db.prepare('PRAGMA synchronous = FULL');
    const now = options.now ?? Date.now;
    const history = new HistoryLog(this.db, now);
    this.usage = new UsageTable(this.db, options.quotaBytes ?? (() => 0));
    this.kv = new KvTable(this.db, history, this.usage);
    this.records = new RecordTable(this.db, history, this.usage, now);
    this.users = new UserTable(this.db, now);
    this.ids = new IdMap(this.db, history);
    this.tmp = new TmpTable(this.db, now);
    this.activity = new ActivityLog(this.db, now, this.usage);
    this.#held = [this.usage, this.activity.held, history.held];
    this.applied = new AppliedTable(this.db);
  }

  /** The syncs that made its commits durable, and their time (status, metrics). */
  get walSync(): SyncFigures {
    return this.#walSync;
  }

  close(): void {
    this.#walSync.close();
    this.db.close();
  }

  /**
   * Run `fn` in one transaction (a savepoint when already inside one),
   * durable when it returns. A savepoint rolled back inside a batch takes
   * its held writes back with it (usage charges and log rows are in
   * memory until the batch ends).
   */
  transaction<T>(fn: () => T): T {
    return this.#undoingHeld(() => this.#transaction(fn));
  }

  /**
   * Run `fn`, whose writes are ones a batch holds in memory (activity lines,
   * history rows, usage charges) and at most one statement: inside a batch, a
   * throw undoes the held ones without a savepoint (two statements fewer per
   * command), and SQLite has undone the statement that failed; outside one, it
   * is an ordinary transaction. A second statement in `fn` would not be
   * undone if a later one failed: use `transaction` for those.
   */
  heldWrite<T>(fn: () => T): T {
    return this.#inBatch ? this.#undoingHeld(fn) : this.transaction(fn);
  }

  /**
   * Has SQLite rolled the running batch's transaction back? It does so on its
   * own for some errors inside a statement (a full disk, an I/O error): what
   * the batch wrote so far is gone, and a statement run after it would commit
   * by itself. The batch must then stop and fail whole.
   */
  batchRolledBack(): boolean {
    return this.#inBatch && !this.db.inTransaction;
  }

  /** Run `run`; if it throws, the writes held in memory since it began are dropped too. */
  #undoingHeld<T>(run: () => T): T {
    const marks = this.#held.map((h) => h.mark());
    try {
      return run();
    } catch (err) {
      this.#held.forEach((h, i) => h.undoTo(marks[i]!));
      throw err;
    }
  }

  /**
   * Run `fn` in one top-level transaction whose commit is made durable off
   * the event loop: committed at synchronous=NORMAL, then the WAL synced on
   * the thread pool (WalSync; docs/spool.md, "Durability"). Its usage
   * charges (summed per user), activity lines and history rows are held in
   * memory and written before the commit. `durable`
   * resolves once it is on disk: tell nobody of the outcome before. The
   * connection is back at FULL for every other commit.
   */
  transactionSyncedLater<T>(fn: () => T): { result: T; durable: Promise<void> } {
    this.#syncNormal.run();
    let result: T;
    this.#inBatch = true;
    try {
      result = this.#transaction(this.#held.reduceRight<() => T>((inner, held) => () => held.deferWhile(inner), fn));
    } finally {
      this.#inBatch = false;
      this.#syncFull.run();
    }
    return { result, durable: this.#walSync.sync() };
  }
}
