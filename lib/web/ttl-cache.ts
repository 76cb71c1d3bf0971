/**
 * A bounded map whose entries expire `ttlMs` after they were stored. Used
 * for file-system facts and URL resolutions on the request path, where a
 * bounded staleness is the price of not asking the disk on every request.
 * When full, the oldest entry goes first (insertion order is age order,
 * because a refreshed entry is re-inserted).
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { readonly atMs: number; readonly value: V }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(ttlMs: number, maxEntries: number) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** A TTL of 0 means: never store anything. */
  get enabled(): boolean {
    return this.#ttlMs > 0;
  }

  get(key: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && nowMs - entry.atMs < this.#ttlMs ? entry.value : undefined;
  }

  set(key: string, value: V, nowMs: number): void {
    if (!this.enabled) return;
    this.#entries.delete(key);
    this.#entries.set(key, { atMs: nowMs, value });
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Replace `key`'s value by `next` only if it still holds `value`; the entry keeps its age. */
  replaceIf(key: string, value: V, next: V): void {
    const entry = this.#entries.get(key);
    if (entry?.value === value) this.#entries.set(key, { atMs: entry.atMs, value: next });
  }

  /** Drop `key` only if it still holds `value` (a newer entry may have replaced it). */
  deleteIf(key: string, value: V): void {
    if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
  }
}

/** A value, or the promise of one while it is being looked up. */
export type MaybePromise<V> = V | Promise<V>;

/**
 * Remember the promise of an async lookup, so concurrent asks share it, and
 * once it settles the value itself: a hit is then answered without a
 * promise, so a request path that finds everything cached never waits for a
 * microtask (each `await` costs one; per request they added up). A rejected
 * lookup is forgotten at once: the next ask retries. An `undefined` value
 * stays cached as its settled promise (a bare `undefined` reads as a miss).
 */
export function cachedAsync<V>(cache: TtlCache<MaybePromise<V>>, key: string, load: () => Promise<V>): MaybePromise<V> {
  const nowMs = Date.now();
  const hit = cache.get(key, nowMs);
  if (hit !== undefined) return hit;
  const pending = load();
  cache.set(key, pending, nowMs);
  // The caller gets `pending` and its rejection; these branches only keep the cache right.
  pending.then(
    (value) => {
      if (value !== undefined) cache.replaceIf(key, pending, value);
    },
    () => cache.deleteIf(key, pending),
  );
  return pending;
}
