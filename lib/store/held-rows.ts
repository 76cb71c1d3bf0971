/**
 * Rows of an append-only table that nothing reads back while a batch runs
 * (the activity log, the change history). Inside a batch (`deferWhile`: a
 * peer's frame run in one transaction) they are held in memory and written
 * together, in order, CHUNK to a statement, just before the batch commits:
 * one statement per CHUNK rows instead of one each. A savepoint rolled back
 * inside the batch drops the rows held since it began (`mark`/`undoTo`;
 * user-store.ts calls them around every nested transaction), as the usage
 * table does with its charges. A failed batch drops them all with its
 * transaction.
 */
import { placeholders, preparedBySize, type Db } from './sqlite';

/** Rows per statement (at most 8 columns: well under SQLite's parameter limit). */
const CHUNK = 64;

export type HeldRow = ReadonlyArray<string | number | null>;

export class HeldRows {
  readonly #columns: number;
  readonly #insert;
  /** While a batch runs: its rows, in order. */
  #pending: HeldRow[] | undefined;

  constructor(db: Db, table: string, columns: readonly string[]) {
    this.#columns = columns.length;
    const row = `(${placeholders(columns.length)})`;
    this.#insert = preparedBySize((n) => db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${placeholders(n, row)}`));
  }

  /** Is a batch holding rows now (so `hold` is the way to write one)? */
  get holding(): boolean {
    return this.#pending !== undefined;
  }

  /** Hold one row (its values in the order of the columns) until the batch ends. */
  hold(row: HeldRow): void {
    this.#pending!.push(row);
  }

  /** Run `fn` (a batch, inside its transaction) with rows held, and write them when it returns. */
  deferWhile<T>(fn: () => T): T {
    if (this.#pending) return fn();
    const pending: HeldRow[] = (this.#pending = []);
    try {
      const result = fn();
      this.#writeAll(pending);
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

  #writeAll(rows: readonly HeldRow[]): void {
    const width = this.#columns;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const n = Math.min(CHUNK, rows.length - i);
      const params = new Array<string | number | null>(n * width);
      for (let r = 0; r < n; r++) {
        const row = rows[i + r]!;
        for (let c = 0; c < width; c++) params[r * width + c] = row[c]!;
      }
      this.#insert(n).run(params);
    }
  }
}
