/**
 * What sessions keep in SQLite: the session-id sequence and the ids revoked
 * by logout or by a new login, until the cookies that carry them expire.
 *
 * Ids are taken from the sequence in blocks (as OpenACS pre-allocates from
 * `sec_id_seq`), so a login costs one SQLite write per block, not per id.
 * Ids skipped by a restart are simply never used: they are unique, not secret.
 */
import { type Db, type TransactionRunner, transactionRunner } from '../store/sqlite';
import { prepareWebTables } from './schema';

export const SESSION_ID_BLOCK = 100;

export class SessionStore {
  readonly #transaction: TransactionRunner;
  readonly #reserveBlock;
  readonly #insertRevoked;
  readonly #pruneRevoked;
  /** session id → expiry (Unix s), oldest first. */
  readonly #revoked = new Map<number, number>();
  #nextId = 0;
  #blockEnd = 0;

  constructor(db: Db, nowS: number) {
    prepareWebTables(db);
    this.#transaction = transactionRunner(db);
    this.#reserveBlock = db.prepare<[number], { next_id: number }>(
      'UPDATE web_session_seq SET next_id = next_id + ? RETURNING next_id',
    );
    this.#insertRevoked = db.prepare<[number, number]>(
      'INSERT OR REPLACE INTO web_revoked_sessions (session_id, expires_at) VALUES (?, ?)',
    );
    this.#pruneRevoked = db.prepare<[number]>('DELETE FROM web_revoked_sessions WHERE expires_at <= ?');
    this.#pruneRevoked.run(nowS);
    const rows = db.prepare<[], { session_id: number; expires_at: number }>('SELECT * FROM web_revoked_sessions ORDER BY expires_at');
    for (const row of rows.iterate()) this.#revoked.set(row.session_id, row.expires_at);
  }

  nextSessionId(): number {
    if (this.#nextId === this.#blockEnd) {
      const row = this.#reserveBlock.get(SESSION_ID_BLOCK);
      if (row === undefined) throw new Error('web_session_seq has no row');
      this.#blockEnd = row.next_id;
      this.#nextId = row.next_id - SESSION_ID_BLOCK;
    }
    return this.#nextId++;
  }

  /** Refuse `sessionId` until `untilS`, when every cookie that may carry it has expired. */
  revoke(sessionId: number, untilS: number, nowS: number): void {
    this.#transaction(() => {
      this.#pruneRevoked.run(nowS);
      this.#insertRevoked.run(sessionId, untilS);
    });
    // Entries go in with a fixed lifetime, so the Map's insertion order is expiry order.
    for (const [id, expiresAt] of this.#revoked) {
      if (expiresAt > nowS) break;
      this.#revoked.delete(id);
    }
    this.#revoked.delete(sessionId);
    this.#revoked.set(sessionId, untilS);
  }

  isRevoked(sessionId: number): boolean {
    return this.#revoked.has(sessionId);
  }
}
