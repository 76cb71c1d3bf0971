/**
 * The `applied` table: which critical messages each sender has had applied
 * here, and the reply each got, so that a message sent again (a replay
 * after a lost reply) is answered without running twice. Ids are scoped by
 * the authenticated sender (schema step 3).
 *
 * A receiver gets critical messages in batches (a replay window, a busy
 * link): `replies` looks a batch's ids up at once and `recordMany` writes
 * them at once, instead of a statement per message each.
 *
 * Most ids come in runs: a sender's ids count up within one daemon run
 * (`<run>.<counter>`, wire/msgid.ts), a replay sends them in order, and
 * nearly every reply is `ok`. Consecutive ids of one run with the same reply
 * are recorded as one row of `applied_runs` (sender, run, first, last);
 * the rest, and ids of any other shape, one row each in `applied`. A run is
 * looked up by the span of the counters asked (two index probes), the
 * single rows of that span by one range scan. Recording 100,000 replayed
 * messages writes a few hundred rows instead of 100,000 (the receiver's
 * CPU per replayed message went from ~17 to ~13 µs with the record skipped
 * outright; runs come close to that).
 */
import { msgidOf, sequenceOf } from '../wire/msgid';
import { insertRows, placeholders, preparedBySize, type Db, type RowValues } from './sqlite';

/** Sender of applied ids recorded before ids were scoped by sender (schema step 3). */
const LEGACY_SENDER = '*';
/** Ids per statement of the batch forms (4 parameters a row: well under SQLite's limit). */
const CHUNK = 64;
/** Fewer consecutive ids than this are recorded one row each. */
const RUN_MIN = 2;

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
  /** Single rows of one run's ids between two of them (string order is counter order). */
  readonly #between;
  readonly #runsOver;
  readonly #addRun;
  readonly #pruneRuns;

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
    this.#between = db.prepare(`SELECT msgid, reply FROM applied WHERE ${this.#senderIs()} AND msgid BETWEEN ? AND ?`).raw();
    // Runs never overlap: those that meet [lo, hi] start inside it, or are the last to start before it.
    this.#runsOver = db
      .prepare(
        `SELECT first, last, reply FROM applied_runs WHERE sender = @sender AND run = @run AND first > @lo AND first <= @hi
         UNION ALL
         SELECT first, last, reply FROM (
           SELECT first, last, reply FROM applied_runs WHERE sender = @sender AND run = @run AND first <= @lo ORDER BY first DESC LIMIT 1)
         WHERE last >= @lo`,
      )
      .raw();
    this.#addRun = db.prepare('INSERT INTO applied_runs (sender, run, first, last, reply, at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#pruneRuns = db.prepare('DELETE FROM applied_runs WHERE at < ?');
  }

  /** The recorded reply of critical message `msgid` from `sender` (an authenticated lonid), if it was applied. */
  reply(sender: string, msgid: string): string | undefined {
    const single = this.#get.get(sender, msgid) as string | undefined;
    if (single !== undefined) return single;
    const seq = sequenceOf(msgid);
    if (seq === undefined) return undefined;
    // The span of one id: only the run that holds it, if any.
    const run = this.#runsOver.get({ sender, run: seq.run, lo: seq.n, hi: seq.n }) as [number, number, string] | undefined;
    return run?.[2];
  }

  /** The recorded replies of those of `msgids` from `sender` that were applied, by id. */
  replies(sender: string, msgids: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    const loose: string[] = [];
    const byRun = new Map<string, number[]>();
    let asked: Set<string> | undefined;
    for (const msgid of msgids) {
      const seq = sequenceOf(msgid);
      if (seq === undefined) loose.push(msgid);
      else (byRun.get(seq.run) ?? byRun.set(seq.run, []).get(seq.run)!).push(seq.n);
    }
    for (let i = 0; i < loose.length; i += CHUNK) {
      const ids = loose.slice(i, i + CHUNK);
      for (const [msgid, reply] of this.#lookup(ids.length).all([sender, ...ids]) as Array<[string, string]>) found.set(msgid, reply);
    }
    for (const [run, ns] of byRun) {
      let lo = ns[0]!;
      let hi = lo;
      for (const n of ns) {
        if (n < lo) lo = n;
        else if (n > hi) hi = n;
      }
      // The span may hold single rows of ids not asked for (a refusal between two runs).
      for (const [msgid, reply] of this.#between.all(sender, msgidOf(run, lo), msgidOf(run, hi)) as Array<[string, string]>) {
        if ((asked ??= new Set(msgids)).has(msgid)) found.set(msgid, reply);
      }
      const runs = this.#runsOver.all({ sender, run, lo, hi }) as Array<[number, number, string]>;
      if (runs.length === 0) continue;
      for (const n of ns) {
        for (const [first, last, reply] of runs) {
          if (n >= first && n <= last) {
            found.set(msgidOf(run, n), reply);
            break;
          }
        }
      }
    }
    return found;
  }

  record(sender: string, msgid: string, reply: string): void {
    this.#add.run(sender, msgid, reply, Date.now());
  }

  /** Record every row (none of them recorded yet), in the caller's transaction: runs as runs, the rest one row each. */
  recordMany(rows: readonly AppliedRow[]): void {
    const at = Date.now();
    const singles: RowValues[] = [];
    for (let i = 0; i < rows.length; ) {
      const [sender, msgid, reply] = rows[i]!;
      const seq = sequenceOf(msgid);
      let end = i + 1;
      if (seq !== undefined) {
        while (end < rows.length) {
          const [s, m, r] = rows[end]!;
          if (s !== sender || r !== reply) break;
          const next = sequenceOf(m);
          if (next === undefined || next.run !== seq.run || next.n !== seq.n + (end - i)) break;
          end++;
        }
      }
      if (end - i >= RUN_MIN) this.#addRun.run(sender, seq!.run, seq!.n, seq!.n + (end - i - 1), reply, at);
      else singles.push([sender, msgid, reply, at]);
      i = end;
    }
    insertRows(this.#insert, singles, CHUNK);
  }

  /** Forget applied ids older than `beforeMs` (well past any spool lifetime); returns the rows removed. */
  prune(beforeMs: number): number {
    return this.#prune.run(beforeMs).changes + this.#pruneRuns.run(beforeMs).changes;
  }

  #senderIs(): string {
    return this.#legacy ? `sender IN (?, '${LEGACY_SENDER}')` : 'sender = ?';
  }
}
