/**
 * Opening a SQLite file the way every loncapad database needs it.
 *
 * better-sqlite3 builds SQLite with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1, so a WAL
 * database reopened without a pragma runs at synchronous=NORMAL and can lose
 * the last commits on power loss. We set the level on every open: FULL (the
 * WAL is fsync'd inside every commit), or NORMAL for a database whose owner
 * syncs the WAL itself, off the event loop, before it tells anyone a commit
 * is durable (wal-sync.ts; the spool does).
 */
import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';

export type Db = Database.Database;

export interface OpenOptions {
  /** `normal`: the caller makes commits durable itself with WalSync before acknowledging them. */
  readonly synchronous?: 'full' | 'normal';
}

/**
 * How long a statement waits for another connection's write lock. Readers
 * (an operator's sqlite3) never block a WAL writer; only another writer
 * does, and waiting blocks the event loop, so the wait is short: a commit
 * that cannot get the lock fails (a critical message answers `con_failed`).
 */
export const BUSY_TIMEOUT_MS = 100;

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const db = new Database(file);
  // Databases hold user records and queued messages: owner and group only.
  chmodSync(file, 0o640);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Bring one component's tables up to date. Several components share a file
 * (the user store, the site map, sessions), so each keeps its own version
 * row instead of the file-wide `user_version`.
 */
export function migrate(db: Db, component: string, steps: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as
    | { version: number }
    | undefined;
  for (let v = row?.version ?? 0; v < steps.length; v++) {
    db.transaction(() => {
      db.exec(steps[v]!);
      db.prepare('INSERT OR REPLACE INTO schema_versions (component, version) VALUES (?, ?)').run(component, v + 1);
    })();
  }
}

/**
 * One reusable transaction runner per database. better-sqlite3's
 * `db.transaction(fn)` builds a wrapper (and its BEGIN/COMMIT/SAVEPOINT
 * statements) each time it is called; on the request path that cost more
 * than the writes themselves. Nested calls become savepoints.
 */
export type TransactionRunner = <T>(fn: () => T) => T;

export function transactionRunner(db: Db): TransactionRunner {
  const run = db.transaction((fn: () => unknown) => fn());
  return run as unknown as TransactionRunner;
}

/**
 * For a write of several statements that must land together, called either
 * on its own or as one step of a caller's transaction: on its own it runs
 * in a transaction of its own; inside one it joins it, and the caller's
 * savepoint (the dispatcher gives each command one) rolls it back whole if
 * it throws. A savepoint of its own would cost two statements per write for
 * nothing, since no caller catches a store error and goes on.
 */
export function atomicRunner(db: Db): TransactionRunner {
  const run = transactionRunner(db);
  return <T>(fn: () => T): T => (db.inTransaction ? fn() : run(fn));
}

export type Statement = Database.Statement;

/**
 * A store failure an operator can act on, in words a caller and the log can
 * use, when `err` is one of SQLite's that says the file cannot be written
 * now rather than that our statement is wrong: another process holds its
 * write lock (an operator's `sqlite3` in a write transaction), the disk is
 * full, an I/O error, the file is read-only. Undefined for anything else: an
 * unexpected error, a bug, logged with its stack.
 */
export function storeFailure(err: unknown): string | undefined {
  if (!(err instanceof Database.SqliteError)) return undefined;
  // SQLite's extended result codes, e.g. SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_FSYNC.
  const primary = /^SQLITE_[A-Z]+/.exec(err.code)?.[0];
  switch (primary) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return 'store busy: another process holds its write lock';
    case 'SQLITE_FULL':
      return 'store full: no space left on its disk';
    case 'SQLITE_IOERR':
      return `store I/O error (${err.code})`;
    case 'SQLITE_READONLY':
      return 'store read-only';
    case 'SQLITE_CANTOPEN':
      return 'store cannot be opened';
    default:
      return undefined;
  }
}

/**
 * Statements that differ only in how many rows they take (a multi-row
 * INSERT, an `IN (…)` list), each prepared on first use of its size. One
 * statement per chunk of rows costs far less than one call per row.
 */
export function preparedBySize(prepare: (rows: number) => Statement): (rows: number) => Statement {
  const cache = new Map<number, Statement>();
  return (rows) => {
    let statement = cache.get(rows);
    if (statement === undefined) cache.set(rows, (statement = prepare(rows)));
    return statement;
  };
}

export type RowValues = ReadonlyArray<string | number | bigint | null>;

/**
 * Insert `rows` (each its values in column order) `perStatement` at a time
 * through `statementFor(n)`, a multi-row INSERT of n rows (preparedBySize).
 * `inserted` hears each statement's last rowid and row count (the rows of
 * one INSERT get consecutive rowids).
 */
export function insertRows(
  statementFor: (rows: number) => Statement,
  rows: readonly RowValues[],
  perStatement: number,
  inserted?: (lastRowid: number, count: number) => void,
): void {
  for (let start = 0; start < rows.length; start += perStatement) {
    const count = Math.min(perStatement, rows.length - start);
    const params: Array<string | number | bigint | null> = [];
    for (let r = start; r < start + count; r++) for (const v of rows[r]!) params.push(v);
    const result = statementFor(count).run(params);
    inserted?.(Number(result.lastInsertRowid), count);
  }
}

/** `rows` copies of `one` (a `?` or a row's `(?, ?, …)`), comma-separated. */
export function placeholders(rows: number, one = '?'): string {
  return Array<string>(rows).fill(one).join(', ');
}
