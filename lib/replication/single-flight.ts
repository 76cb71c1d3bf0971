/**
 * One piece of work per key at a time (classic D1a: "is it in transfer?").
 * Callers that arrive while it runs get the same promise instead of a second
 * transfer; the entry is gone as soon as the work settles, so the next caller
 * sees its result on disk.
 */
export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  /** The running work for `key`, if any. */
  running(key: string): Promise<T> | undefined {
    return this.#running.get(key);
  }

  /** Run `work` for `key` unless it already runs; `joined` tells which happened. */
  run(key: string, work: () => Promise<T>): { readonly result: Promise<T>; readonly joined: boolean } {
    const running = this.#running.get(key);
    if (running !== undefined) return { result: running, joined: true };
    const result = work().finally(() => {
      if (this.#running.get(key) === result) this.#running.delete(key);
    });
    this.#running.set(key, result);
    return { result, joined: false };
  }

  /** Everything running now, settled (stop). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }
}
