/**
 * Faults a home can be told to inject into its transfers, for the tests of
 * what a subscriber does when a transfer goes wrong (a sealed link cannot be
 * corrupted from outside: any flipped bit ends the link). Only a daemon
 * started with `--test-hooks` accepts them (`res:fault:[op, url]`, local).
 *
 *   hold      `fetch` of the URL waits until `release` (requests pile up)
 *   corrupt   the first chunk of the URL arrives with one byte flipped
 *   truncate  the last chunk of the URL arrives one byte short
 *   fail      `fetch` of the URL answers a transient failure
 *   clear     no fault for the URL
 */
import { badArgs } from '../errors';

export type FaultKind = 'hold' | 'corrupt' | 'truncate' | 'fail';

const KINDS: ReadonlySet<string> = new Set<FaultKind>(['hold', 'corrupt', 'truncate', 'fail']);

export class FaultHooks {
  readonly #faults = new Map<string, FaultKind>();
  readonly #held = new Map<string, Array<() => void>>();

  /** `op` is a fault kind, `release` or `clear`. */
  set(op: string, url: string): void {
    if (op === 'release' || op === 'clear') {
      this.#faults.delete(url);
      for (const wake of this.#held.get(url) ?? []) wake();
      this.#held.delete(url);
      return;
    }
    if (!KINDS.has(op)) throw badArgs(`unknown fault ${op} (hold, corrupt, truncate, fail, release, clear)`);
    this.#faults.set(url, op as FaultKind);
  }

  has(url: string, kind: FaultKind): boolean {
    return this.#faults.get(url) === kind;
  }

  /** Resolves at once, or when a `hold` on `url` is released. */
  gate(url: string): Promise<void> {
    if (!this.has(url, 'hold')) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.#held.get(url) ?? [];
      waiting.push(resolve);
      this.#held.set(url, waiting);
    });
  }

  /** Let every held request go (stop). */
  releaseAll(): void {
    for (const url of [...this.#held.keys()]) this.set('release', url);
  }
}
