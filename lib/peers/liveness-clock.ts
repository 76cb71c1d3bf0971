/**
 * One timer for the liveness checks of every outbound link that is up.
 *
 * An interval per link woke the loop once per link per check period: the
 * links come up at different moments, so their expiries never coincide,
 * and 1,000 idle links meant ~130 wake-ups a second, each to compare one
 * link's clock (and, every fourth, to send one keep-alive whose answer
 * woke the loop once more). This clock splits the links into `SLICES`
 * fixed groups and checks one group a tick, every period ÷ SLICES: each
 * link is still checked once a period, the loop wakes 8 times a period
 * whatever the number of links, and the keep-alives of a group go out, and
 * their answers come back, together — in bursts of at most a slice, so a
 * thousand pings never go out in one turn.
 */
export interface Clocked {
  /** Check the clock; `now` is performance.now() of this tick. */
  tick(now: number): void;
}

/** Groups the links are spread over (one checked each tick). */
export const SLICES = 8;

export class LivenessClock {
  readonly #periodMs: () => number;
  readonly #now: () => number;
  readonly #slices: Array<Set<Clocked>> = Array.from({ length: SLICES }, () => new Set());
  /** The slice each member is in, for delete. */
  readonly #sliceOf = new Map<Clocked, Set<Clocked>>();
  /** Where the next member goes (round robin keeps the slices even). */
  #nextSlot = 0;
  /** The slice the next tick checks. */
  #turn = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `periodMs`: how often each member is checked (read at each tick: a reload may change it). */
  constructor(periodMs: () => number, now: () => number = () => performance.now()) {
    this.#periodMs = periodMs;
    this.#now = now;
  }

  get size(): number {
    return this.#sliceOf.size;
  }

  /** Is the timer armed? (Only while there are members.) */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  add(member: Clocked): void {
    if (this.#sliceOf.has(member)) return;
    const slice = this.#slices[this.#nextSlot]!;
    this.#nextSlot = (this.#nextSlot + 1) % SLICES;
    slice.add(member);
    this.#sliceOf.set(member, slice);
    if (this.#timer === undefined) this.#arm();
  }

  delete(member: Clocked): void {
    const slice = this.#sliceOf.get(member);
    if (slice === undefined) return;
    slice.delete(member);
    this.#sliceOf.delete(member);
    if (this.#sliceOf.size === 0) this.stop();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    // A timeout re-armed each tick, not an interval: the period is read anew.
    this.#timer = setTimeout(() => this.#tick(), Math.max(1, this.#periodMs() / SLICES));
    // Links hold the process open with their sockets; the clock alone must not.
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined; // it fired; a member added during the tick may arm the next one
    const slice = this.#slices[this.#turn]!;
    this.#turn = (this.#turn + 1) % SLICES;
    const now = this.#now();
    // A member's tick may drop it or another member: iterate a copy, skip the ones gone.
    for (const member of [...slice]) if (this.#sliceOf.has(member)) member.tick(now);
    if (this.#sliceOf.size > 0 && this.#timer === undefined) this.#arm();
  }
}
