/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in
 * order. Bounds the chunk requests in flight to one home across all its
 * transfers, so that fifty concurrent fetches still put at most a few
 * hundred KiB into each sealed frame and other traffic keeps flowing.
 */
export class Budget {
  readonly #limit: number;
  #held = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  take(): Promise<void> {
    if (this.#held < this.#limit) {
      this.#held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.#held--;
  }
}
