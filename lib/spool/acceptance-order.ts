/**
 * Critical messages to one peer enter the spool in the order they were
 * accepted, even when an earlier one's fate is decided later.
 *
 * Messages A, B, C are sent live, in that order; C's client is slow and
 * arrives after A was spooled (a transient reply), so C goes behind the
 * backlog — but B, still in flight, fails only later, when the link drops.
 * Spooled in the order of their failures, C would overtake B. So each
 * message takes a turn when it is accepted, and spools only once every
 * message accepted before it for that peer is decided (answered or
 * spooled). A message answered live decides at once; the wait is bounded
 * by the earlier messages' deadlines.
 */
export interface Turn {
  /** Resolves when every message accepted before this one (same peer) is decided. */
  readonly prior: Promise<void>;
  /** This message is decided: answered, or handed to the spool (call after `enqueue`). */
  decided(): void;
}

export class AcceptanceOrder {
  readonly #tail = new Map<string, Promise<void>>();

  take(peer: string): Turn {
    const prior = this.#tail.get(peer) ?? Promise.resolve();
    let decided!: () => void;
    const mine = new Promise<void>((resolve) => (decided = resolve));
    const after = Promise.all([prior, mine]).then(() => {
      if (this.#tail.get(peer) === after) this.#tail.delete(peer);
    });
    this.#tail.set(peer, after);
    return { prior, decided };
  }
}
