/**
 * Handshakes share the event loop fairly. Their crypto runs on the loop:
 * three X25519 multiplications and a key pair a side (~0.15 ms through
 * node:crypto, wire/x25519.ts; ~2 ms when it was tweetnacl's JavaScript,
 * when a thousand links opening at once held the loop for seconds and
 * local pings waited up to 2 s in the 1,000-peer bench). So:
 *
 *   outbound  at most `maxDialing` links connect and handshake at once; the
 *             others wait their turn, in order (dial);
 *   both      each crypto step (making a Hello, answering one, checking the
 *             answer) runs now if this loop turn has budget left, otherwise
 *             in a later turn, in order (step); every turn runs at least
 *             one, so handshakes always progress, and everything else the
 *             loop has to do runs between them.
 *
 * Inbound connections are paced before any of this by admission.ts.
 */
import { performance } from 'node:perf_hooks';

export interface PacerPolicy {
  /** Outbound links connecting and handshaking at once. */
  readonly maxDialing: number;
  /** Handshake crypto per loop turn, ms. */
  readonly turnBudgetMs: number;
  /** Monotonic clock, ms; injected by tests. */
  readonly now?: () => number;
}

export const DEFAULT_PACER: PacerPolicy = { maxDialing: 32, turnBudgetMs: 8 };

interface DialSlot {
  state: 'waiting' | 'dialing' | 'done';
  readonly start: () => void;
}

export class HandshakePacer {
  readonly #p: PacerPolicy;
  readonly #now: () => number;
  #dialing = 0;
  readonly #waitingToDial: DialSlot[] = [];
  readonly #steps: Array<() => void> = [];
  #spentMs = 0;
  #turnEnd: NodeJS.Immediate | undefined;

  constructor(policy: PacerPolicy = DEFAULT_PACER) {
    this.#p = policy;
    this.#now = policy.now ?? (() => performance.now());
  }

  /** Links connecting and handshaking now, and waiting to. */
  get load(): { dialing: number; waiting: number; steps: number } {
    return { dialing: this.#dialing, waiting: this.#waitingToDial.length, steps: this.#steps.length };
  }

  /**
   * Call `start` (which connects) when a dialing slot is free: now, or later
   * in order. Returns `done`, to call once the handshake ended either way
   * (or to give up the wait); calling it twice is harmless.
   */
  dial(start: () => void): () => void {
    const slot: DialSlot = { state: 'waiting', start };
    if (this.#dialing < this.#p.maxDialing) this.#begin(slot);
    else this.#waitingToDial.push(slot);
    return () => {
      if (slot.state === 'dialing') {
        this.#dialing--;
        this.#nextDial();
      }
      slot.state = 'done';
    };
  }

  /** Run one crypto step now if this turn has budget, else in a later turn (in order). */
  step(work: () => void): void {
    if (this.#steps.length === 0 && this.#spentMs < this.#p.turnBudgetMs) {
      this.#run(work);
      return;
    }
    this.#steps.push(work);
    this.#endOfTurn();
  }

  #run(work: () => void): void {
    const started = this.#now();
    try {
      work();
    } finally {
      this.#spentMs += this.#now() - started;
      this.#endOfTurn();
    }
  }

  /** After this turn's I/O: a new budget, and the steps that waited. */
  #endOfTurn(): void {
    this.#turnEnd ??= setImmediate(() => {
      this.#turnEnd = undefined;
      this.#spentMs = 0;
      while (this.#steps.length > 0 && (this.#spentMs === 0 || this.#spentMs < this.#p.turnBudgetMs)) this.#run(this.#steps.shift()!);
    });
  }

  #begin(slot: DialSlot): void {
    slot.state = 'dialing';
    this.#dialing++;
    slot.start();
  }

  #nextDial(): void {
    while (this.#dialing < this.#p.maxDialing && this.#waitingToDial.length > 0) {
      const next = this.#waitingToDial.shift()!;
      if (next.state === 'waiting') this.#begin(next);
    }
  }
}
