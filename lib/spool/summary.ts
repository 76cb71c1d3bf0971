/**
 * What the spool holds for each peer, as the status page shows it: messages
 * ready to replay, the age of the oldest one waiting, and how many were set
 * aside. Cheap enough to ask every few seconds however long the backlog: the
 * depth is the spool's own count in memory, the oldest message is one index
 * seek per peer with a backlog, and `aside` (which an operator clears) is
 * counted in one pass. `runSpoolOp('stats')` counts the whole queue instead,
 * which a backlog of millions makes too slow to poll.
 */
import type { Spool } from './spool';

export interface SpoolPeerSummary {
  readonly peer: string;
  /** Messages ready to replay (held ones are not counted, as in `loncapad status`). */
  readonly depth: number;
  /** Age of the oldest message queued for the peer, ms; null when none is. */
  readonly oldestAgeMs: number | null;
  /** Messages set aside (failed or expired) for an operator. */
  readonly aside: number;
}

export class SpoolSummary {
  readonly #spool: Spool;
  readonly #oldest;
  readonly #asideByPeer;

  constructor(spool: Spool) {
    this.#spool = spool;
    this.#oldest = spool.db.prepare<[string], { created_at: number }>(
      'SELECT created_at FROM queue WHERE peer = ? ORDER BY seq LIMIT 1',
    );
    this.#asideByPeer = spool.db.prepare<[], { peer: string; n: number }>('SELECT peer, count(*) AS n FROM aside GROUP BY peer');
  }

  /** One entry per peer with anything ready or set aside, by peer id. */
  byPeer(nowMs: number): SpoolPeerSummary[] {
    const aside = new Map(this.#asideByPeer.all().map((r) => [r.peer, r.n]));
    const peers = [...new Set([...this.#spool.peersWithBacklog(), ...aside.keys()])].sort();
    return peers.map((peer) => {
      const oldest = this.#oldest.get(peer);
      return {
        peer,
        depth: this.#spool.depth(peer),
        oldestAgeMs: oldest === undefined ? null : Math.max(0, nowMs - oldest.created_at),
        aside: aside.get(peer) ?? 0,
      };
    });
  }
}
