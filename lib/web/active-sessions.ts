/**
 * Logged-in sessions seen within a sliding window: the classic `userload`
 * count. Anonymous visitors have no session and are not counted, as classic
 * LON-CAPA counted only login sessions.
 *
 * A touched session moves to the end of the Map, so the Map stays ordered by
 * last use and pruning only looks at the stale front: O(1) per request.
 */
export class ActiveSessions {
  /** session id → last request time (ms), least recent first. */
  readonly #lastSeen = new Map<number, number>();
  readonly #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  touch(sessionId: number, nowMs: number): void {
    this.#lastSeen.delete(sessionId);
    this.#lastSeen.set(sessionId, nowMs);
    this.#prune(nowMs);
  }

  forget(sessionId: number): void {
    this.#lastSeen.delete(sessionId);
  }

  count(nowMs: number): number {
    this.#prune(nowMs);
    return this.#lastSeen.size;
  }

  #prune(nowMs: number): void {
    for (const [id, seenMs] of this.#lastSeen) {
      if (nowMs - seenMs <= this.#windowMs) break;
      this.#lastSeen.delete(id);
    }
  }
}
