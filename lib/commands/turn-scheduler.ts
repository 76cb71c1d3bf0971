/**
 * CPU work whose size a caller chooses (matching a caller's pattern against
 * a namespace's keys) shares one budget per event-loop turn across every
 * request, so that many such requests at once take turns instead of adding
 * up: Redis's NET_MAX_WRITES_PER_EVENT idea, applied to CPU.
 *
 *   run(job) ─▶ waiting (FIFO) ─▶ active (at most maxActive)
 *     each turn: the active jobs, round-robin, a slice of sliceMs each,
 *                until turnBudgetMs is spent ─▶ next turn via setImmediate
 *     a job whose step answers true is done: its promise resolves
 *
 * A job is a series of short steps (one key); the clock is read between
 * steps, so a turn overruns its budget by at most one step, and every turn
 * makes progress (its first step always runs). Jobs wait their turn before
 * they start, so a job's own state (a compiled pattern and its automaton)
 * exists for at most maxActive jobs at once.
 */

export interface SlicedJob {
  /** One short piece of work; true when nothing is left. A throw ends the job (its promise rejects). */
  step(): boolean;
}

export interface TurnSchedulerOptions {
  /** Work of all jobs together per event-loop turn, ms. */
  readonly turnBudgetMs: number;
  /** One job's share before the next active job runs, ms. */
  readonly sliceMs: number;
  /** Jobs run round-robin; the rest wait in arrival order. */
  readonly maxActive: number;
  /** Monotonic clock, ms; injected by tests. */
  readonly now?: () => number;
  /** Runs the next turn after the event loop has served I/O; injected by tests. */
  readonly defer?: (fn: () => void) => void;
}

interface Entry {
  readonly job: SlicedJob;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class TurnScheduler {
  readonly #o: Required<TurnSchedulerOptions>;
  readonly #waiting: Entry[] = [];
  readonly #active: Entry[] = [];
  #turnPending = false;

  constructor(options: TurnSchedulerOptions) {
    this.#o = { now: () => performance.now(), defer: (fn) => setImmediate(fn), ...options };
  }

  /** Resolves once `job` has run to its end, in slices, beside every other job. */
  run(job: SlicedJob): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ job, resolve, reject });
      this.#schedule();
    });
  }

  /** Jobs not finished yet (active and waiting). */
  get size(): number {
    return this.#active.length + this.#waiting.length;
  }

  #schedule(): void {
    if (this.#turnPending) return;
    this.#turnPending = true;
    this.#o.defer(this.#turn);
  }

  readonly #turn = (): void => {
    this.#turnPending = false;
    const turnEnd = this.#o.now() + this.#o.turnBudgetMs;
    while (this.#admit()) {
      // Round-robin: the front job runs a slice, then goes to the back.
      const entry = this.#active.shift()!;
      if (!this.#runSlice(entry, Math.min(turnEnd, this.#o.now() + this.#o.sliceMs))) this.#active.push(entry);
      if (this.#o.now() >= turnEnd) break;
    }
    if (this.size > 0) this.#schedule();
  };

  /** Fill the active ring from the waiting line; false when there is nothing to run. */
  #admit(): boolean {
    while (this.#active.length < this.#o.maxActive && this.#waiting.length > 0) this.#active.push(this.#waiting.shift()!);
    return this.#active.length > 0;
  }

  /** Steps until the slice ends; true when the job is over (done or failed). */
  #runSlice(entry: Entry, sliceEnd: number): boolean {
    try {
      do {
        if (entry.job.step()) {
          entry.resolve();
          return true;
        }
      } while (this.#o.now() < sliceEnd);
      return false;
    } catch (err) {
      entry.reject(err);
      return true;
    }
  }
}
