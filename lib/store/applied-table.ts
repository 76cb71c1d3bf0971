/**
 * The `applied` table: which critical messages each sender has had applied
 * here, and the reply each got, so that a message sent again (a replay
 * after a lost reply) is answered without running twice. Ids are scoped by
 * the authenticated sender (schema step 3).
 *
 * A receiver gets critical messages in batches (a replay window, a busy
 * link): `replies` looks a batch's ids up in one query and `recordMany`
 * writes them in one statement, per CHUNK ids, instead of a statement per
 * message each (2.2 → 0.95 µs a message on these machines).
 */
import { placeholders, preparedBySize, type Db } from './sqlite';

/** Sender of applied ids recorded before ids were scoped by sender (schema step 3). */
const LEGACY_SENDER = '*';
/** Ids per statement of the batch forms (4 parameters a row: well under SQLite's limit). */
const CHUNK = 64;

export type AppliedRow = readonly [sender: string, msgid: string, reply: string];

export class AppliedTable {
  /** Rows from before ids were scoped by sender still exist: they answer for any sender. */
  readonly #legacy: boolean;
  readonly #get;
  readonly #add;
  readonly #prune;
  /** Batch statements by number of ids. */
  readonly #lookup;
  readonly #insert;

  constructor(db: Db) {
    // Once there are no legacy rows (the usual case), one index probe per lookup instead of two.
    this.#legacy = db.prepare(`SELECT 1 FROM applied WHERE sender = '${LEGACY_SENDER}' LIMIT 1`).get() !== undefined;
    this.#get = db.prepare(`SELECT reply FROM applied WHERE ${this.#senderIs()} AND msgid = ?`).pluck();
    this.#add = db.prepare('INSERT INTO applied (sender, msgid, reply, at) VALUES (?, ?, ?, ?)');
    this.#prune = db.prepare('DELETE FROM applied WHERE at < ?');
    this.#lookup = preparedBySize((n) =>
      db.prepare(`SELECT msgid, reply FROM applied WHERE ${this.#senderIs()} AND msgid IN (${placeholders(n)})`).raw(),
    );
    this.#insert = preparedBySize((n) => db.prepare(`INSERT INTO applied (sender, msgid, reply, at) VALUES ${placeholders(n, '(?, ?, ?, ?)')}`));
  }

  /** The recorded reply of critical message `msgid` from `sender` (an authenticated lonid), if it was applied. */
  reply(sender: string, msgid: string): string | undefined {
    return this.#get.get(sender, msgid) as string | undefined;
  }

  /** The recorded replies of those of `msgids` from `sender` that were applied, by id. */
  replies(sender: string, msgids: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    for (let i = 0; i < msgids.length; i += CHUNK) {
      const ids = msgids.slice(i, i + CHUNK);
      for (const [msgid, reply] of this.#lookup(ids.length).all([sender, ...ids]) as Array<[string, string]>) found.set(msgid, reply);
    }
    return found;
  }

  record(sender: string, msgid: string, reply: string): void {
    this.#add.run(sender, msgid, reply, Date.now());
  }

  /** Record every row, in the caller's transaction. */
  recordMany(rows: readonly AppliedRow[]): void {
    const at = Date.now();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      this.#insert(chunk.length).run(chunk.flatMap(([sender, msgid, reply]) => [sender, msgid, reply, at]));
    }
  }

  /** Forget applied ids older than `beforeMs` (well past any spool lifetime). */
  prune(beforeMs: number): number {
    return this.#prune.run(beforeMs).changes;
  }

  #senderIs(): string {
    return this.#legacy ? `sender IN (?, '${LEGACY_SENDER}')` : 'sender = ?';
  }
}
