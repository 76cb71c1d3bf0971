/**
 * Counts local requests that have not been answered yet, so that shutdown
 * can wait until every client has heard its reply (or `con_delayed`).
 */
export class InFlight {
  #count = 0;
  #idle: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  track<T>(p: Promise<T>): Promise<T> {
    this.#count++;
    return p.finally(() => {
      if (--this.#count === 0) {
        const waiters = this.#idle;
        this.#idle = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Resolves when nothing is in flight (at once if nothing is). */
  idle(): Promise<void> {
    return this.#count === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }
}
