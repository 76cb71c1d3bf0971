/**
 * The domain's ID ↔ username map (classic `<udom>/ids.db`): institutional
 * ids (student numbers) to usernames. Changes go to the history under the
 * domain with an empty user name and namespace `ids`.
 */
import type { Audit, HistoryLog } from './audit';
import { type Db, type TransactionRunner, atomicRunner } from './sqlite';
import { joinPairs, type Pair } from './types';

export class IdMap {
  readonly #transaction: TransactionRunner;
  readonly #history: HistoryLog;
  readonly #put;
  readonly #get;

  constructor(db: Db, history: HistoryLog) {
    this.#transaction = atomicRunner(db);
    this.#history = history;
    this.#put = db.prepare('INSERT OR REPLACE INTO ids (domain, id, name) VALUES (?, ?, ?)');
    this.#get = db.prepare('SELECT name FROM ids WHERE domain = ? AND id = ?').pluck();
  }

  put(domain: string, pairs: readonly Pair[], audit: Audit): void {
    this.#transaction(() => {
      for (const [id, name] of pairs) this.#put.run(domain, id, name);
      this.#history.add({ domain, name: '' }, 'ids', 'P', audit, joinPairs(pairs));
    });
  }

  /** Names in the order asked; an unknown id answers the empty string. */
  get(domain: string, ids: readonly string[]): string[] {
    return ids.map((id) => (this.#get.get(domain, id) as string | undefined) ?? '');
  }
}
