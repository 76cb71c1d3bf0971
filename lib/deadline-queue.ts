/**
 * Deadlines of many short-lived items under one timer.
 *
 * A timer per request cost a setTimeout and a clearTimeout (and their
 * garbage) on every request of a link, a tenth of the daemon's work per
 * ping at 64 in flight. Requests of one link mostly share one timeout and
 * settle in the order they were sent, so their deadlines arrive in order:
 * a queue sorted by deadline, whose front is swept as items settle, needs
 * one timer, set for the earliest deadline still pending.
 *
 *   add ─▶ [ d1 ≤ d2 ≤ d3 … ]  (appended; a shorter timeout is inserted in order)
 *   settled ─▶ settled items leave the front at once; any others are
 *              dropped in one pass once they outnumber the live ones
 *   the timer ─▶ every item past its deadline and not settled is expired, in
 *              deadline order; then the timer is set for the new front
 *
 * An item is settled when its `done` is true; the owner marks it, then
 * calls `settled()`.
 */
import { performance } from 'node:perf_hooks';

export interface Deadlined {
  /** performance.now() time after which the item expires. */
  deadline: number;
  /** Settled: expires no more. */
  done: boolean;
}

/** Settled items kept behind a pending front before a compaction is worth it. */
const COMPACT_AFTER = 1024;

export class DeadlineQueue<T extends Deadlined> {
  readonly #expire: (item: T) => void;
  /** Slots before `#head` are cleared as items leave, so a settled item is garbage at once. */
  #items: Array<T | undefined> = [];
  #head = 0;
  #live = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is set for. */
  #timerAt = Infinity;

  /** `expire` is called for each item whose deadline passed unsettled, after it leaves the queue. */
  constructor(expire: (item: T) => void) {
    this.#expire = expire;
  }

  /** Items not yet settled or expired. */
  get size(): number {
    return this.#live;
  }

  /** Add `item`, due `timeoutMs` from now (its `deadline` is set here). */
  add(item: T, timeoutMs: number): void {
    item.deadline = performance.now() + timeoutMs;
    const items = this.#items;
    if (items.length === this.#head || items[items.length - 1]!.deadline <= item.deadline) items.push(item);
    else items.splice(this.#insertionPoint(item.deadline), 0, item);
    this.#live++;
    if (item.deadline < this.#timerAt) this.#arm(item.deadline);
  }

  /** An item was just marked done. */
  settled(): void {
    this.#live--;
    this.#dropSettledFront();
    if (this.#items.length - this.#head > 2 * this.#live + COMPACT_AFTER) {
      this.#items = this.#items.slice(this.#head).filter((i) => !i!.done);
      this.#head = 0;
    }
    // The timer stays set even with nothing left: at one request in flight, stopping and
    // starting it per request would cost what this class saves; it fires once, finds nothing.
  }

  /** Forget every item (their owner settles them); the timer stops. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#live = 0;
    this.#disarm();
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    while (this.#head < this.#items.length && this.#items[this.#head]!.deadline <= now) {
      const item = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined;
      if (item.done) continue;
      this.#live--;
      this.#expire(item);
    }
    this.#dropSettledFront();
    if (this.#head < this.#items.length) this.#arm(this.#items[this.#head]!.deadline);
  }

  #dropSettledFront(): void {
    const items = this.#items;
    // Cleared as they leave: a request (its command, its promise's callbacks) must not outlive
    // its reply by a window's worth of others, or it survives young-generation GCs and is promoted.
    while (this.#head < items.length && items[this.#head]!.done) items[this.#head++] = undefined;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** First index whose deadline is later than `deadline` (binary search from the head). */
  #insertionPoint(deadline: number): number {
    let lo = this.#head;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#items[mid]!.deadline <= deadline) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #arm(at: number): void {
    this.#disarm();
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, at - performance.now()));
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
