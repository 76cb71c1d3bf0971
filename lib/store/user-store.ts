/**
 * The user data store (`SPOOL/data.sqlite`): users' namespaces of key/value
 * pairs, their change history and activity log, and the applied-id records
 * that give critical messages their exactly-once effect.
 *
 * Keys and values are stored as the client escaped them (classic lond kept
 * them URL-escaped too), so a reply is built from stored text without
 * re-escaping. Every statement is prepared once; every call is one indexed
 * query, so no call grows with the size of the store.
 */
import { badArgs } from '../errors';
import { migrate, openDatabase, type Db } from './sqlite';

const SCHEMA: readonly string[] = [
  `CREATE TABLE users (
     domain     TEXT NOT NULL,
     name       TEXT NOT NULL,
     auth_type  TEXT NOT NULL,
     auth_arg   TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (domain, name)) WITHOUT ROWID;
   CREATE TABLE kv (
     domain TEXT NOT NULL,
     name   TEXT NOT NULL,
     ns     TEXT NOT NULL,
     key    TEXT NOT NULL,
     value  TEXT NOT NULL,
     PRIMARY KEY (domain, name, ns, key)) WITHOUT ROWID;
   CREATE TABLE history (
     id      INTEGER PRIMARY KEY,
     domain  TEXT NOT NULL,
     name    TEXT NOT NULL,
     ns      TEXT NOT NULL,
     op      TEXT NOT NULL,
     at      INTEGER NOT NULL,
     by_host TEXT NOT NULL,
     payload TEXT NOT NULL);
   CREATE INDEX history_by_user ON history (domain, name, ns, id);
   CREATE TABLE activity (
     id      INTEGER PRIMARY KEY,
     domain  TEXT NOT NULL,
     name    TEXT NOT NULL,
     at      INTEGER NOT NULL,
     by_host TEXT NOT NULL,
     text    TEXT NOT NULL);
   CREATE INDEX activity_by_user ON activity (domain, name, id);
   CREATE TABLE applied (
     msgid TEXT PRIMARY KEY,
     reply TEXT NOT NULL,
     at    INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX applied_by_age ON applied (at);`,
];

/** Names of domains, users and namespaces: word characters, as classic lond sanitised them. */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;

export function checkName(what: string, value: string): string {
  if (!NAME_RE.test(value)) throw badArgs(`bad ${what}`);
  return value;
}

export interface UserRef {
  readonly domain: string;
  readonly name: string;
}

export class UserStore {
  readonly db: Db;
  readonly #putKv;
  readonly #getKv;
  readonly #addHistory;
  readonly #addActivity;
  readonly #getApplied;
  readonly #addApplied;
  readonly #pruneApplied;

  constructor(file: string) {
    this.db = openDatabase(file);
    migrate(this.db, 'user-store', SCHEMA);
    this.#putKv = this.db.prepare('INSERT OR REPLACE INTO kv (domain, name, ns, key, value) VALUES (?, ?, ?, ?, ?)');
    this.#getKv = this.db.prepare('SELECT value FROM kv WHERE domain = ? AND name = ? AND ns = ? AND key = ?').pluck();
    this.#addHistory = this.db.prepare(
      'INSERT INTO history (domain, name, ns, op, at, by_host, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#addActivity = this.db.prepare('INSERT INTO activity (domain, name, at, by_host, text) VALUES (?, ?, ?, ?, ?)');
    this.#getApplied = this.db.prepare('SELECT reply FROM applied WHERE msgid = ?').pluck();
    this.#addApplied = this.db.prepare('INSERT INTO applied (msgid, reply, at) VALUES (?, ?, ?)');
    this.#pruneApplied = this.db.prepare('DELETE FROM applied WHERE at < ?');
  }

  close(): void {
    this.db.close();
  }

  /** Run `fn` in one transaction (a savepoint when already inside one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  put(user: UserRef, ns: string, pairs: ReadonlyArray<readonly [string, string]>, byHost: string, payload: string): void {
    for (const [k, v] of pairs) this.#putKv.run(user.domain, user.name, ns, k, v);
    this.history(user, ns, 'P', byHost, payload);
  }

  /** Values in the order asked; a missing key answers the empty string. */
  get(user: UserRef, ns: string, keys: readonly string[]): string[] {
    return keys.map((k) => (this.#getKv.get(user.domain, user.name, ns, k) as string | undefined) ?? '');
  }

  getOne(user: UserRef, ns: string, key: string): string | undefined {
    return this.#getKv.get(user.domain, user.name, ns, key) as string | undefined;
  }

  /** Add `by` to each numeric value (a missing or non-numeric value counts as 0). */
  inc(user: UserRef, ns: string, deltas: ReadonlyArray<readonly [string, number]>, byHost: string, payload: string): void {
    for (const [k, by] of deltas) {
      const old = Number(this.getOne(user, ns, k) ?? 0);
      this.#putKv.run(user.domain, user.name, ns, k, String((Number.isFinite(old) ? old : 0) + by));
    }
    this.history(user, ns, 'I', byHost, payload);
  }

  /** Append to the change history; `nohist_` namespaces keep none, as in classic lond. */
  history(user: UserRef, ns: string, op: string, byHost: string, payload: string): void {
    if (ns.startsWith('nohist_')) return;
    this.#addHistory.run(user.domain, user.name, ns, op, Date.now(), byHost, payload);
  }

  log(user: UserRef, byHost: string, text: string): void {
    this.#addActivity.run(user.domain, user.name, Date.now(), byHost, text);
  }

  /** The recorded reply of an already applied critical message, if any. */
  appliedReply(msgid: string): string | undefined {
    return this.#getApplied.get(msgid) as string | undefined;
  }

  recordApplied(msgid: string, reply: string): void {
    this.#addApplied.run(msgid, reply, Date.now());
  }

  /** Forget applied ids older than `beforeMs` (well past any spool lifetime). */
  pruneApplied(beforeMs: number): number {
    return this.#pruneApplied.run(beforeMs).changes;
  }
}
