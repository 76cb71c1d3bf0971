/**
 * The spool's database side: enqueue with group commit, bounded batch reads
 * for replay, and the moves an operator or the replayer makes.
 *
 * Every write of one loop turn shares one transaction (flushed in
 * setImmediate), committed at synchronous=NORMAL; the fsync of the WAL that
 * makes it durable runs on the thread pool (WalSync) and covers every commit
 * made before it started, so the loop gathers the next batches while the
 * disk works. An enqueue resolves only after its commit and that sync, so
 * nobody hears `con_delayed` for a message that is not on disk. Deletes and
 * moves need no sync of their own: one lost in a crash only means a message
 * is sent again, and the receiver answers it from its applied record.
 */
import { LoncapadError } from '../errors';
import { insertRows, migrate, openDatabase, placeholders, preparedBySize, transactionRunner, type Db, type TransactionRunner } from '../store/sqlite';
import { WalSync, type SyncFigures } from '../store/wal-sync';
import { SPOOL_SCHEMA } from './schema';

export interface SpoolRow {
  readonly seq: number;
  readonly peer: string;
  readonly msgid: string;
  readonly command: string;
  readonly created_at: number;
  readonly attempts: number;
  readonly last_try_at: number | null;
  readonly last_error: string | null;
  readonly held: 0 | 1;
}

/** What replay needs of a row: read without the bookkeeping columns, as arrays (half the cost of row objects). */
export type ReplayRow = Pick<SpoolRow, 'seq' | 'peer' | 'msgid' | 'command' | 'created_at'>;

export interface AsideRow {
  readonly seq: number;
  readonly peer: string;
  readonly msgid: string;
  readonly command: string;
  readonly created_at: number;
  readonly attempts: number;
  readonly moved_at: number;
  readonly reason: 'failed' | 'expired';
  readonly reply: string | null;
}

export type AsideReason = AsideRow['reason'];

interface PendingInsert {
  readonly peer: string;
  readonly msgid: string;
  readonly command: string;
  readonly createdAt: number;
  readonly resolve: (seq: number) => void;
  readonly reject: (err: LoncapadError) => void;
}

/**
 * Told what happens to spooled messages, after the fact and on the loop
 * (daemon.ts wires the metrics here). Kept to counting: no I/O, no throws.
 */
export interface SpoolObserver {
  /** Committed to the spool for `peer`. */
  enqueued(peer: string): void;
  /** Sent to `peer` by the replayer (again, if an earlier send was not answered). */
  replayed(peer: string): void;
  /** Answered by `peer`: removed from the spool. */
  delivered(peer: string): void;
  /** Moved aside, `count` at once (expiry moves many). */
  setAside(reason: AsideReason, count: number): void;
}

const NO_OBSERVER: SpoolObserver = { enqueued() {}, replayed() {}, delivered() {}, setAside() {} };

/** Rows per multi-row INSERT or DELETE (4 parameters a row at most: well under SQLite's limit). */
const CHUNK_ROWS = 64;

export class Spool {
  readonly db: Db;
  readonly #transaction: TransactionRunner;
  readonly #walSync: WalSync;
  /** Ready (not held) rows per peer, counting inserts not yet committed. */
  readonly #depth = new Map<string, number>();
  #inserts: PendingInsert[] = [];
  #writes: Array<() => void> = [];
  /** Seqs of delivered rows, deleted with the next commit (CHUNK_ROWS a statement). */
  #deletes: number[] = [];
  /** Rows delivered or set aside whose delete waits for the next commit: they wait for nothing any more. */
  #leaving = new Set<number>();
  #flushScheduled: NodeJS.Immediate | undefined;
  /** A flush was put off until the running sync ends. */
  #flushAfterSync = false;
  readonly #committed: Array<(peer: string) => void> = [];
  /** Told of every enqueue, replay, delivery and move aside; a no-op until daemon.ts sets one. */
  observer: SpoolObserver = NO_OBSERVER;

  /** Multi-row INSERTs and DELETEs by row count (one call per commit chunk is ~20 % cheaper than one per row). */
  readonly #insertRows;
  readonly #deleteRows;
  readonly #readBatch;
  readonly #delete;
  readonly #toAside;
  readonly #noteTry;
  readonly #oldest;

  constructor(file: string) {
    this.db = openDatabase(file, { synchronous: 'normal' });
    migrate(this.db, 'spool', SPOOL_SCHEMA); // its first write creates the -wal file WalSync opens
    this.#walSync = new WalSync(file);
    this.#transaction = transactionRunner(this.db);
    this.#insertRows = preparedBySize((n) =>
      this.db.prepare(`INSERT INTO queue (peer, msgid, command, created_at) VALUES ${placeholders(n, '(?, ?, ?, ?)')}`),
    );
    this.#deleteRows = preparedBySize((n) => this.db.prepare(`DELETE FROM queue WHERE seq IN (${placeholders(n)})`));
    this.#readBatch = this.db
      .prepare('SELECT seq, msgid, command, created_at FROM queue WHERE peer = ? AND seq > ? AND held = 0 ORDER BY seq LIMIT ?')
      .raw();
    this.#delete = this.db.prepare('DELETE FROM queue WHERE seq = ?');
    this.#toAside = this.db.prepare(
      `INSERT OR REPLACE INTO aside (seq, peer, msgid, command, created_at, attempts, moved_at, reason, reply)
       SELECT seq, peer, msgid, command, created_at, attempts, ?, ?, ? FROM queue WHERE seq = ?`,
    );
    this.#noteTry = this.db.prepare('UPDATE queue SET attempts = attempts + 1, last_try_at = ?, last_error = ? WHERE seq = ?');
    this.#oldest = this.db.prepare<[string], { seq: number; created_at: number }>('SELECT seq, created_at FROM queue WHERE peer = ? ORDER BY seq');
    this.recount();
  }

  /** Called after each commit that added rows for a peer (the replayer listens). */
  onCommitted(listener: (peer: string) => void): void {
    this.#committed.push(listener);
  }

  /** Ready messages waiting for `peer` (including ones being committed now). */
  depth(peer: string): number {
    return this.#depth.get(peer) ?? 0;
  }

  /**
   * When the oldest message waiting in `peer`'s queue (held or not) was
   * handed in, ms since the epoch; undefined when nothing waits. Rows
   * delivered or set aside wait no more, though their delete commits later.
   * One indexed query (queue_by_peer), for the metrics scrape, read until
   * the first row that is not leaving.
   */
  oldest(peer: string): number | undefined {
    for (const row of this.#oldest.iterate(peer)) if (!this.#leaving.has(row.seq)) return row.created_at;
    return undefined;
  }

  peersWithBacklog(): string[] {
    return [...this.#depth].filter(([, n]) => n > 0).map(([p]) => p);
  }

  totalDepth(): number {
    let n = 0;
    for (const d of this.#depth.values()) n += d;
    return n;
  }

  enqueue(peer: string, msgid: string, command: string, createdAt: number): Promise<number> {
    this.#bump(peer, 1);
    return new Promise((resolve, reject) => {
      this.#inserts.push({ peer, msgid, command, createdAt, resolve, reject });
      this.#schedule();
    });
  }

  /** Oldest ready rows for `peer` after `afterSeq`; bounded, one indexed query. */
  readBatch(peer: string, afterSeq: number, limit: number): ReplayRow[] {
    // The peer is the one asked for: not read back, a string fewer per row.
    const rows = this.#readBatch.all(peer, afterSeq, limit) as Array<[number, string, string, number]>;
    return rows.map(([seq, msgid, command, created_at]) => ({ seq, peer, msgid, command, created_at }));
  }

  /** The peer answered: the message is done. Deleted with this turn's batch. */
  delivered(row: ReplayRow): void {
    this.#bump(row.peer, -1);
    this.observer.delivered(row.peer);
    this.#deletes.push(row.seq);
    this.#leaving.add(row.seq);
    this.#schedule();
  }

  setAside(row: ReplayRow, reason: AsideReason, reply: string | null): void {
    this.#bump(row.peer, -1);
    this.observer.setAside(reason, 1);
    this.#leaving.add(row.seq);
    this.#writes.push(() => {
      this.#toAside.run(Date.now(), reason, reply, row.seq);
      this.#delete.run(row.seq);
    });
    this.#schedule();
  }

  noteAttempt(row: ReplayRow, error: string | null): void {
    this.#writes.push(() => this.#noteTry.run(Date.now(), error, row.seq));
    this.#schedule();
  }

  /** Move rows created before `before` aside as expired; returns how many. */
  expire(before: number): number {
    const moved = this.#transaction(() => {
      const now = Date.now();
      const n = this.db
        .prepare(
          `INSERT OR REPLACE INTO aside (seq, peer, msgid, command, created_at, attempts, moved_at, reason, reply)
           SELECT seq, peer, msgid, command, created_at, attempts, ?, 'expired', NULL FROM queue WHERE created_at < ?`,
        )
        .run(now, before).changes;
      this.db.prepare('DELETE FROM queue WHERE created_at < ?').run(before);
      return n;
    });
    if (moved > 0) {
      this.recount();
      this.observer.setAside('expired', moved);
    }
    return moved;
  }

  /** Rebuild the per-peer counts from the file (start, operator changes). */
  recount(): void {
    const pendingByPeer = new Map<string, number>();
    for (const p of this.#inserts) pendingByPeer.set(p.peer, (pendingByPeer.get(p.peer) ?? 0) + 1);
    this.#depth.clear();
    const rows = this.db.prepare('SELECT peer, count(*) AS n FROM queue WHERE held = 0 GROUP BY peer').all() as Array<{
      peer: string;
      n: number;
    }>;
    for (const r of rows) this.#depth.set(r.peer, r.n);
    for (const [p, n] of pendingByPeer) this.#bump(p, n);
  }

  /** Commit everything queued now (also used at shutdown). */
  flush(now = false): void {
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = undefined;
    // Real group commit: while a sync runs, new messages gather; they are
    // committed together once it ends, and covered by the one sync after it.
    if (!now && this.#walSync.running && this.#inserts.length > 0) {
      this.#flushAfterSync = true;
      return;
    }
    const inserts = this.#inserts;
    const writes = this.#writes;
    const deletes = this.#deletes;
    if (inserts.length === 0 && writes.length === 0 && deletes.length === 0) return;
    this.#inserts = [];
    this.#writes = [];
    this.#deletes = [];
    // Committed below, or (if the commit fails) still queued and sent again: waiting either way.
    this.#leaving = new Set();
    let seqs: number[];
    try {
      seqs = this.#transaction(() => {
        for (const w of writes) w();
        for (let start = 0; start < deletes.length; start += CHUNK_ROWS) {
          const chunk = deletes.slice(start, start + CHUNK_ROWS);
          this.#deleteRows(chunk.length).run(chunk);
        }
        return this.#insertAll(inserts);
      });
    } catch (err) {
      for (const p of inserts) this.#bump(p.peer, -1);
      const fail = new LoncapadError('LC_ERR_SPOOL', `spool commit failed: ${(err as Error).message}`, { cause: err });
      for (const p of inserts) p.reject(fail);
      // Deletes and moves that failed with it are retried naturally: the rows
      // are still queued, replay sends them again, the receiver deduplicates.
      this.recount();
      return;
    }
    const peers = new Set<string>();
    for (const p of inserts) {
      peers.add(p.peer);
      this.observer.enqueued(p.peer);
    }
    // The replayer may send the rows now: sending one that a crash then loses is harmless.
    for (const peer of peers) for (const l of this.#committed) l(peer);
    if (inserts.length === 0) return;
    this.#walSync
      .sync()
      .then(
        () => {
          for (let i = 0; i < inserts.length; i++) inserts[i]!.resolve(seqs[i]!);
        },
        (err: Error) => {
          // The rows are committed but perhaps not on disk: the client hears con_failed
          // (and may send again); if the rows survive, they are delivered.
          const fail = new LoncapadError('LC_ERR_SPOOL', `spool sync failed: ${err.message}`, { cause: err });
          for (const p of inserts) p.reject(fail);
        },
      )
      .finally(() => {
        if (!this.#flushAfterSync) return;
        this.#flushAfterSync = false;
        this.#schedule();
      });
  }

  /** Insert in chunks; the rows of one INSERT get consecutive seqs (one writer, inside a transaction). */
  #insertAll(rows: readonly PendingInsert[]): number[] {
    const seqs: number[] = [];
    insertRows(
      this.#insertRows,
      rows.map((p) => [p.peer, p.msgid, p.command, p.createdAt]),
      CHUNK_ROWS,
      (last, count) => {
        for (let i = count - 1; i >= 0; i--) seqs.push(last - i);
      },
    );
    return seqs;
  }

  /** The syncs that made its commits durable, and their time (status, metrics). */
  get walSync(): SyncFigures {
    return this.#walSync;
  }

  close(): void {
    this.flush(true);
    this.#walSync.close();
    this.db.close();
  }

  /**
   * One commit per loop turn, after the poll phase has delivered every
   * request of the turn. (Lingering for more senders was measured: bigger
   * batches, but each row costs ~9 µs in the commit, so no gain.)
   */
  #schedule(): void {
    this.#flushScheduled ??= setImmediate(() => this.flush());
  }

  #bump(peer: string, by: number): void {
    this.#depth.set(peer, Math.max(0, (this.#depth.get(peer) ?? 0) + by));
  }
}
