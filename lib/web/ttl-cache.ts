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

  /** Drop `key` only if it still holds `value` (a newer entry may have replaced it). */
  deleteIf(key: string, value: V): void {
    if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
  }
}

/**
 * Remember the promise of an async lookup, so concurrent asks share it. A
 * rejected lookup is forgotten at once: the next ask retries.
 */
export function cachedAsync<V>(cache: TtlCache<Promise<V>>, key: string, load: () => Promise<V>): Promise<V> {
  const nowMs = Date.now();
  const hit = cache.get(key, nowMs);
  if (hit !== undefined) return hit;
  const value = load();
  cache.set(key, value, nowMs);
  // The caller gets `value` and its rejection; this branch only keeps the failure out of the cache.
  value.catch(() => cache.deleteIf(key, value));
  return value;
}
