/**
 * Operator actions on the spool (`loncapad spool …`). They run inside the
 * daemon, through its local socket, so its in-memory counts and replays stay
 * in step; with no daemon running the CLI runs the same functions on the
 * file directly.
 */
import { badArgs } from '../errors';
import type { AsideRow, Spool, SpoolRow } from './spool';

export const SPOOL_OPS = ['list', 'show', 'hold', 'release', 'retry', 'delete', 'stats'] as const;
export type SpoolOp = (typeof SPOOL_OPS)[number];

/** Longest listing answered at once. */
const LIST_LIMIT = 1000;

export interface PeerStats {
  readonly peer: string;
  readonly queued: number;
  readonly held: number;
  readonly oldest: number | null;
  readonly failed: number;
  readonly expired: number;
}

export type SpoolTarget = { readonly seq: number } | { readonly peer: string };

export function parseTarget(arg: string | undefined): SpoolTarget {
  if (arg === undefined || arg === '') throw badArgs('name a message (seq number) or a peer');
  return /^\d+$/.test(arg) ? { seq: Number(arg) } : { peer: arg };
}

/** Run one operation; returns what the CLI prints (as JSON or a table). */
export function runSpoolOp(spool: Spool, op: string, args: readonly string[]): unknown {
  const db = spool.db;
  switch (op as SpoolOp) {
    case 'list': {
      const peer = args[0];
      const rows = (
        peer
          ? db.prepare('SELECT * FROM queue WHERE peer = ? ORDER BY seq LIMIT ?').all(peer, LIST_LIMIT)
          : db.prepare('SELECT * FROM queue ORDER BY seq LIMIT ?').all(LIST_LIMIT)
      ) as SpoolRow[];
      const aside = (
        peer
          ? db.prepare('SELECT * FROM aside WHERE peer = ? ORDER BY seq LIMIT ?').all(peer, LIST_LIMIT)
          : db.prepare('SELECT * FROM aside ORDER BY seq LIMIT ?').all(LIST_LIMIT)
      ) as AsideRow[];
      return { queue: rows, aside };
    }
    case 'show': {
      const t = parseTarget(args[0]);
      if (!('seq' in t)) throw badArgs('show takes a seq number');
      const q = db.prepare('SELECT *, \'queued\' AS status FROM queue WHERE seq = ?').get(t.seq);
      const a = db.prepare('SELECT *, \'aside\' AS status FROM aside WHERE seq = ?').get(t.seq);
      if (!q && !a) throw badArgs(`no message #${t.seq}`);
      return q ?? a;
    }
    case 'hold':
    case 'release': {
      const t = parseTarget(args[0]);
      const held = op === 'hold' ? 1 : 0;
      const n =
        'seq' in t
          ? db.prepare('UPDATE queue SET held = ? WHERE seq = ?').run(held, t.seq).changes
          : db.prepare('UPDATE queue SET held = ? WHERE peer = ?').run(held, t.peer).changes;
      spool.recount();
      return { changed: n };
    }
    case 'retry': {
      const t = parseTarget(args[0]);
      const where = 'seq' in t ? 'seq = ?' : 'peer = ?';
      const key = 'seq' in t ? t.seq : t.peer;
      const n = db.transaction(() => {
        // Back into the queue under its old seq, so it keeps its place in the order.
        const moved = db
          .prepare(
            `INSERT INTO queue (seq, peer, msgid, command, created_at, attempts, held)
             SELECT seq, peer, msgid, command, ?, 0, 0 FROM aside WHERE ${where}`,
          )
          .run(Date.now(), key).changes;
        db.prepare(`DELETE FROM aside WHERE ${where}`).run(key);
        const reset = db.prepare(`UPDATE queue SET attempts = 0, last_error = NULL, held = 0 WHERE ${where}`).run(key).changes;
        return Math.max(moved, reset);
      })();
      spool.recount();
      return { changed: n };
    }
    case 'delete': {
      const t = parseTarget(args[0]);
      const where = 'seq' in t ? 'seq = ?' : 'peer = ?';
      const key = 'seq' in t ? t.seq : t.peer;
      const n = db.transaction(
        () => db.prepare(`DELETE FROM queue WHERE ${where}`).run(key).changes + db.prepare(`DELETE FROM aside WHERE ${where}`).run(key).changes,
      )();
      spool.recount();
      return { changed: n };
    }
    case 'stats':
      return stats(spool);
    default:
      throw badArgs(`unknown spool operation "${op}" (one of ${SPOOL_OPS.join(', ')})`);
  }
}

export function stats(spool: Spool): PeerStats[] {
  return spool.db
    .prepare(
      `SELECT peer,
              sum(queued) AS queued, sum(held) AS held, min(oldest) AS oldest,
              sum(failed) AS failed, sum(expired) AS expired
         FROM (SELECT peer, count(*) AS queued, sum(held) AS held, min(created_at) AS oldest, 0 AS failed, 0 AS expired
                 FROM queue GROUP BY peer
               UNION ALL
               SELECT peer, 0, 0, NULL, sum(reason = 'failed'), sum(reason = 'expired') FROM aside GROUP BY peer)
        GROUP BY peer ORDER BY peer`,
    )
    .all() as PeerStats[];
}
