/**
 * Bounded concurrency with one waiting line per caller, served round-robin.
 *
 * Password hashes (scrypt, 32 MiB and ~0.1 s each) run on libuv's thread
 * pool, which every file read and write of the process shares (the web
 * server's static files, fs.promises). A flood of `auth` from one host must
 * neither take every pool thread nor make other hosts' logins wait behind
 * it, so:
 *
 *   run(lane, task) ─▶ running < maxRunning?  ─▶ run now
 *                    └▶ else wait in the lane's line (at most maxWaitingPerLane,
 *                       maxWaiting in all; beyond: refused at once, transient)
 *   a task ends      ─▶ the next line in turn gives its first task
 *
 * One lane's backlog delays another lane's task by at most one task per
 * lane ahead of it, whatever its length.
 */
import { LoncapadError } from '../errors';

export interface FairLimiterOptions {
  /** Tasks running at once. */
  readonly maxRunning: number;
  /** Tasks one lane may have waiting. */
  readonly maxWaitingPerLane: number;
  /** Tasks waiting in all lanes together. */
  readonly maxWaiting: number;
  /** What the refusal says when a line is full (it becomes `error:transient:<what>`). */
  readonly busy: string;
}

type Start = () => void;

export class FairLimiter {
  readonly #o: FairLimiterOptions;
  /** Lane → its waiting tasks; Map order is the round-robin order. */
  readonly #lines = new Map<string, Start[]>();
  #running = 0;
  #waiting = 0;

  constructor(options: FairLimiterOptions) {
    this.#o = options;
  }

  run<T>(lane: string, task: () => Promise<T>): Promise<T> {
    if (this.#running < this.#o.maxRunning && this.#waiting === 0) return this.#start(task);
    const line = this.#lines.get(lane) ?? [];
    if (line.length >= this.#o.maxWaitingPerLane || this.#waiting >= this.#o.maxWaiting) {
      return Promise.reject(new LoncapadError('LC_ERR_TRANSIENT', this.#o.busy));
    }
    return new Promise<T>((resolve, reject) => {
      line.push(() => this.#start(task).then(resolve, reject));
      this.#lines.set(lane, line);
      this.#waiting++;
    });
  }

  /** Tasks running and waiting, for status and tests. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting };
  }

  #start<T>(task: () => Promise<T>): Promise<T> {
    this.#running++;
    let result: Promise<T>;
    try {
      result = task();
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.finally(() => {
      this.#running--;
      this.#next();
    });
  }

  /** Start the first task of the lane whose turn it is; that lane goes to the back. */
  #next(): void {
    const first = this.#lines.entries().next();
    if (first.done) return;
    const [lane, line] = first.value;
    const start = line.shift()!;
    this.#lines.delete(lane);
    if (line.length > 0) this.#lines.set(lane, line);
    this.#waiting--;
    start();
  }
}
