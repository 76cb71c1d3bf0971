/**
 * The outbound link's request bookkeeping, apart from its socket and timers:
 *
 *   waiting ──write()──▶ in flight (by wire id) ──reply──▶ settled
 *      │                      │
 *      └── deadline / failAll ┴── deadline / link lost ──▶ rejected
 *
 * A request is settled exactly once: by its reply, its deadline, or a
 * failure of the link. Deadlines share one timer (deadline-queue.ts).
 * Fragments of large replies (`p` messages) are collected here by wire id.
 */
import { DeadlineQueue } from '../deadline-queue';
import { LoncapadError } from '../errors';
import { MAX_FRAME_BYTES } from '../wire';

/** A reassembled reply may not grow past this (a frame's worth). */
const MAX_REPLY_CHARS = MAX_FRAME_BYTES;

/**
 * Who waits for a request: told its reply or why there is none, exactly
 * once. Must not throw (it runs inside the link's read and timer callbacks).
 */
export interface ReplyHandler {
  resolve(reply: string): void;
  reject(err: LoncapadError): void;
}

export interface Request {
  readonly command: string;
  /** Critical message id: the peer applies the command at most once. */
  readonly msgid: string | undefined;
  readonly to: ReplyHandler;
  /** Nobody waits for the reply any more (its client went away): stop collecting it. */
  readonly abandoned: (() => boolean) | undefined;
  /** performance.now() time past which it fails with LC_ERR_TIMEOUT (set by `arm`). */
  deadline: number;
  /** Wire id once written; 0 while waiting. */
  id: number;
  sentAt: number;
  done: boolean;
}

export class RequestBook {
  readonly #deadlines: DeadlineQueue<Request>;
  readonly #inFlight = new Map<number, Request>();
  readonly #partial = new Map<number, { parts: string[]; chars: number }>();
  #waiting: Request[] = [];
  #nextId = 1;

  /** `timedOut` builds the error a request gets when its deadline passes. */
  constructor(timedOut: () => LoncapadError) {
    this.#deadlines = new DeadlineQueue((req) => {
      if (req.id !== 0) this.#inFlight.delete(req.id);
      req.done = true;
      req.to.reject(timedOut());
    });
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Is anything unanswered (in flight or waiting)? */
  get busy(): boolean {
    return this.#inFlight.size > 0 || this.#waiting.some((r) => !r.done);
  }

  /** Start `req`'s deadline: it fails `timeoutMs` from now unless settled before. */
  arm(req: Request, timeoutMs: number): void {
    this.#deadlines.add(req, timeoutMs);
  }

  wait(req: Request): void {
    this.#waiting.push(req);
  }

  /** Take the waiting requests still unsettled, in arrival order. */
  takeWaiting(): Request[] {
    const waiting = this.#waiting.filter((r) => !r.done);
    this.#waiting = [];
    return waiting;
  }

  /** Give `req` its wire id and count it in flight; returns the id. */
  sent(req: Request, now: number): number {
    req.id = this.#nextId++;
    req.sentAt = now;
    this.#inFlight.set(req.id, req);
    return req.id;
  }

  /**
   * A `p` fragment for wire id `id`. Fragments of a request no longer in
   * flight (its deadline passed, or it was abandoned) are dropped, not
   * collected. Throws when the reply grows too large.
   */
  fragment(id: number, piece: string): void {
    const req = this.#inFlight.get(id);
    if (!req) return;
    if (req.abandoned?.()) {
      this.#inFlight.delete(id);
      this.#partial.delete(id);
      this.#fail(req, new LoncapadError('LC_ERR_PEER_DOWN', 'the client went away'));
      return;
    }
    const got = this.#partial.get(id) ?? { parts: [], chars: 0 };
    got.parts.push(piece);
    got.chars += piece.length;
    if (got.chars > MAX_REPLY_CHARS) throw new LoncapadError('LC_ERR_FRAME_TOO_LARGE', `reply ${id} exceeds ${MAX_REPLY_CHARS} characters`);
    this.#partial.set(id, got);
  }

  /** The final `r` for wire id `id`: the request it answers (now settled) and the whole reply, or undefined when it is late. */
  answered(id: number, last: string): { req: Request; reply: string } | undefined {
    const got = this.#partial.get(id);
    if (got) this.#partial.delete(id);
    const req = this.#inFlight.get(id);
    if (!req) return undefined; // its deadline passed; the reply is late
    this.#inFlight.delete(id);
    this.#settle(req);
    return { req, reply: got ? got.parts.join('') + last : last };
  }

  /** Fail every request in flight, in the order they were sent (the link is gone); the error is built only if one is. */
  failInFlight(err: () => LoncapadError): void {
    if (this.#inFlight.size === 0) {
      this.#partial.clear();
      return;
    }
    const lost = [...this.#inFlight.values()];
    this.#inFlight.clear();
    this.#partial.clear();
    const e = err();
    for (const req of lost) this.#fail(req, e);
  }

  /** Fail the waiting requests that `which` selects, in arrival order; the rest keep waiting. */
  failWaiting(err: LoncapadError, which: (req: Request) => boolean = () => true): void {
    const waiting = this.#waiting;
    this.#waiting = waiting.filter((r) => !r.done && !which(r));
    for (const req of waiting) if (which(req)) this.#fail(req, err);
  }

  /** The link is gone for good: no deadline may fire any more. */
  close(): void {
    this.#deadlines.clear();
  }

  #settle(req: Request): void {
    req.done = true;
    this.#deadlines.settled();
  }

  #fail(req: Request, err: LoncapadError): void {
    if (req.done) return;
    this.#settle(req);
    req.to.reject(err);
  }
}
