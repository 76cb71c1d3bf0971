/**
 * Replay of one peer's backlog, in order, when its link is up.
 *
 *   link up ─▶ read REPLAY_BATCH_ROWS oldest rows ─▶ send, at most
 *   REPLAY_WINDOW in flight, in seq order on the one link (so the peer applies
 *   them in order) ─▶ each reply:
 *        answer     ─▶ delivered (row deleted)
 *        refusal    ─▶ set aside (`refused`, `rejected`, `unknown_cmd`, `error:…`)
 *        transient  ─▶ kept (`error:transient:…`: the peer could not apply it
 *                      for a reason of its own); the pass stops and the
 *                      backlog is held back, with growing delays, before the
 *                      next pass starts again from the oldest
 *   ─▶ next rows … ─▶ backlog empty.
 *
 * A lost link stops the pass; the rows stay and the next `up` starts again
 * from the oldest. A row sent twice is harmless: the receiver answers a
 * repeated msgid with the recorded reply and changes nothing.
 */
import { isRefusal, isTransientReply, type LoncapadError } from '../errors';
import { nextDelayMs, type BackoffPolicy } from '../peers/backoff';
import type { ReplyHandler } from '../peers/requests';
import type { Logger } from '../log';
import type { ReplayRow, Spool } from './spool';

/** Rows read per query: bounds the synchronous SQLite work per turn. */
export const REPLAY_BATCH_ROWS = 1024;
/** Replayed messages in flight at once on one link. */
export const REPLAY_WINDOW = 2048;
/** When some rows timed out, try the pass again after this long, ms. */
const REPLAY_RETRY_DELAY_MS = 1_000;
/** Holding a backlog back after transient replies: from one second, doubling, to a minute. */
export const TRANSIENT_HOLD: BackoffPolicy = { floorMs: 1_000, ceilingMs: 60_000 };

/** The link, as far as replay needs it. */
export interface Courier {
  readonly state: string;
  submit(command: string, opts: { timeoutMs: number; msgid: string }, to: ReplyHandler): void;
}

export interface ReplayOptions {
  readonly timeoutMs: number;
  /** Rows older than this (ms since creation) are set aside as expired. */
  readonly lifetimeMs: number;
  readonly log: Logger;
}

export class Replayer {
  readonly #peer: string;
  readonly #spool: Spool;
  readonly #courier: Courier;
  readonly #o: ReplayOptions;
  #running = false;
  #cursor = 0;
  /** Rows read and not yet sent: `#buffer` from `#next` on (an index, not shift(): shifting a long array copies it). */
  #buffer: ReplayRow[] = [];
  #next = 0;
  #exhausted = false;
  #inFlight = 0;
  #stopped = false;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Clients still waiting for the real reply of a spooled message, by seq. */
  readonly #waiters = new Map<number, (reply: string) => void>();
  #delivered = 0;
  #setAside = 0;
  /** Transient replies in a row (reset by a delivery), and until when the backlog is held back (Date.now()). */
  #transient = 0;
  #holdUntil = 0;

  constructor(peer: string, spool: Spool, courier: Courier, options: ReplayOptions) {
    this.#peer = peer;
    this.#spool = spool;
    this.#courier = courier;
    this.#o = options;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Wait for the reply to spooled message `seq` (resolved when replay gets it). */
  wait(seq: number, cb: (reply: string) => void): () => void {
    this.#waiters.set(seq, cb);
    return () => this.#waiters.delete(seq);
  }

  /** The link came up, or new rows were committed: (re)start or continue. */
  kick(): void {
    if (this.#courier.state !== 'up' || this.#spool.depth(this.#peer) === 0) return;
    const held = this.#holdUntil - Date.now();
    if (held > 0 && !this.#running) {
      this.#retryTimer ??= setTimeout(() => {
        this.#retryTimer = undefined;
        this.kick();
      }, held);
      return;
    }
    if (this.#running) {
      this.#exhausted = false;
      this.#pump();
      return;
    }
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#running = true;
    this.#stopped = false;
    this.#cursor = 0;
    this.#buffer = [];
    this.#next = 0;
    this.#exhausted = false;
    this.#delivered = 0;
    this.#setAside = 0;
    this.#o.log.info(`spool: replaying ${this.#spool.depth(this.#peer)} message(s) to ${this.#peer}`);
    this.#pump();
  }

  /**
   * The peer answered a transient failure (here, or to a live send of a
   * message now spooled): hold the backlog back, with growing delays, so a
   * receiver whose disk is full is not hammered.
   */
  holdBack(what: string, reply: string): void {
    if (Date.now() < this.#holdUntil) return; // held already: many replies of one failure count once
    const delay = nextDelayMs(this.#transient++, TRANSIENT_HOLD);
    this.#holdUntil = Date.now() + delay;
    this.#o.log.warn(`spool: ${this.#peer} could not apply ${what} now (${reply.slice(0, 200)}); kept, trying again in ${delay} ms`);
  }

  dispose(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#waiters.clear();
  }

  #pump(): void {
    const expiredBefore = Date.now() - this.#o.lifetimeMs;
    while (!this.#stopped && this.#inFlight < REPLAY_WINDOW) {
      if (this.#next === this.#buffer.length) {
        if (this.#exhausted) break;
        this.#buffer = this.#spool.readBatch(this.#peer, this.#cursor, REPLAY_BATCH_ROWS);
        this.#next = 0;
        if (this.#buffer.length === 0) {
          this.#exhausted = true;
          break;
        }
      }
      const row = this.#buffer[this.#next++]!;
      this.#cursor = row.seq;
      if (row.created_at < expiredBefore) {
        this.#spool.setAside(row, 'expired', null);
        this.#o.log.warn(`spool: #${row.seq} to ${this.#peer} expired unsent`);
        this.#answerWaiter(row.seq, 'con_delayed');
        continue;
      }
      this.#inFlight++;
      this.#spool.observer.replayed(this.#peer);
      this.#courier.submit(row.command, { timeoutMs: this.#o.timeoutMs, msgid: row.msgid }, new Replayer.#Sent(this, row));
    }
    this.#maybeFinish();
  }

  /** One sent row's outcome, as the link tells it: shared methods, no promise or closures per row. */
  static readonly #Sent = class implements ReplyHandler {
    constructor(
      readonly replayer: Replayer,
      readonly row: ReplayRow,
    ) {}
    resolve(reply: string): void {
      this.replayer.#onReply(this.row, reply);
    }
    reject(err: LoncapadError): void {
      this.replayer.#onFailure(this.row, err);
    }
  };

  #onReply(row: ReplayRow, reply: string): void {
    this.#inFlight--;
    if (isTransientReply(reply)) {
      this.#spool.noteAttempt(row, reply);
      this.#answerWaiter(row.seq, 'con_delayed');
      if (!this.#stopped) {
        // Nothing later may overtake it: stop here and start over from the oldest.
        this.#stopped = true;
        this.holdBack(`#${row.seq}`, reply);
      }
      this.#maybeFinish();
      return;
    }
    if (isRefusal(reply)) {
      this.#spool.setAside(row, 'failed', reply);
      this.#setAside++;
      this.#o.log.warn(`spool: #${row.seq} to ${this.#peer} set aside: ${reply.slice(0, 200)}`);
    } else {
      this.#spool.delivered(row);
      this.#delivered++;
      this.#transient = 0;
      // One line per message would cost more than the delivery; the pass's summary is at info.
      if (this.#o.log.enabled('debug')) this.#o.log.debug(`spool: #${row.seq} delivered to ${this.#peer}: ${reply.slice(0, 200)}`);
    }
    this.#answerWaiter(row.seq, reply);
    this.#pump();
  }

  #onFailure(row: ReplayRow, err: LoncapadError): void {
    this.#inFlight--;
    this.#spool.noteAttempt(row, err.message);
    // A lost link ends the pass; a slow reply does not (later rows may go on,
    // the peer still applies them in the order they were sent).
    if (err.code === 'LC_ERR_PEER_DOWN') this.#stopped = true;
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#inFlight > 0 || (!this.#stopped && !this.#exhausted)) return;
    if (!this.#running) return;
    this.#running = false;
    const left = this.#spool.depth(this.#peer);
    this.#o.log.info(
      `spool: replay to ${this.#peer} ${this.#stopped ? 'interrupted' : 'done'}: ` +
        `${this.#delivered} delivered, ${this.#setAside} set aside, ${left} waiting`,
    );
    const held = this.#holdUntil - Date.now();
    if (left > 0 && (!this.#stopped || held > 0)) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.kick();
      }, Math.max(held, this.#stopped ? 0 : REPLAY_RETRY_DELAY_MS));
    }
  }

  #answerWaiter(seq: number, reply: string): void {
    const cb = this.#waiters.get(seq);
    if (!cb) return;
    this.#waiters.delete(seq);
    cb(reply);
  }
}
