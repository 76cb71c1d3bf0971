/**
 * Rows of an append-only table that nothing reads back while a batch runs
 * (the activity log, the change history). Inside a batch (`deferWhile`: a
 * peer's frame run in one transaction) they are held in memory and written
 * together, in order, CHUNK to a statement, just before the batch commits:
 * one statement per CHUNK rows instead of one each. A savepoint rolled back
 * inside the batch drops the rows held since it began (`mark`/`undoTo`;
 * user-store.ts calls them around every nested transaction), as the usage
 * table does with its charges. A failed batch drops them all with its
 * transaction. Outside a batch, `add` writes the row at once.
 */
import { insertRows, placeholders, preparedBySize, type Db, type RowValues } from './sqlite';

/** Rows per statement (at most 8 columns: well under SQLite's parameter limit). */
const CHUNK = 64;

export class HeldRows {
  readonly #insert;
  /** While a batch runs: its rows, in order. */
  #pending: RowValues[] | undefined;

  constructor(db: Db, table: string, columns: readonly string[]) {
    const row = `(${placeholders(columns.length)})`;
    this.#insert = preparedBySize((n) => db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${placeholders(n, row)}`));
  }

  /** Add one row (its values in the order of the columns): held while a batch runs, written now otherwise. */
  add(row: RowValues): void {
    if (this.#pending) this.#pending.push(row);
    else this.#insert(1).run(row);
  }

  /** Run `fn` (a batch, inside its transaction) with rows held, and write them when it returns. */
  deferWhile<T>(fn: () => T): T {
    if (this.#pending) return fn();
    const pending: RowValues[] = (this.#pending = []);
    try {
      const result = fn();
      insertRows(this.#insert, pending, CHUNK);
      return result;
    } finally {
      this.#pending = undefined;
    }
  }

  /** Where the running batch's rows stand (before a savepoint). */
  mark(): number {
    return this.#pending?.length ?? 0;
  }

  /** The savepoint taken at `mark` was rolled back: so are the rows held since. */
  undoTo(mark: number): void {
    if (this.#pending && this.#pending.length > mark) this.#pending.length = mark;
  }
}
