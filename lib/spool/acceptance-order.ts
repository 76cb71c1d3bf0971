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
 *
 * Each peer keeps its turns in a line, in acceptance order, with the first
 * undecided one at its front: a turn's `prior` is settled once it reaches
 * the front (everything before it decided). Nothing is allocated for a
 * `prior` nobody asks for (a message answered live never does); a chain of
 * promises per message (Promise.all of the previous tail and its own) was
 * ~2 µs of the sending daemon's CPU per critical message.
 */
export interface Turn {
  /** Resolves when every message accepted before this one (same peer) is decided. */
  readonly prior: Promise<void>;
  /** This message is decided: answered, or handed to the spool (call after `enqueue`). */
  decided(): void;
}

const SETTLED: Promise<void> = Promise.resolve();

export class AcceptanceOrder {
  readonly #lines = new Map<string, Line>();

  take(peer: string): Turn {
    let line = this.#lines.get(peer);
    if (line === undefined) this.#lines.set(peer, (line = new Line(() => this.#lines.delete(peer))));
    return line.add();
  }
}

/** One peer's undecided turns (and decided ones behind an undecided one), in acceptance order. */
class Line {
  readonly #onEmpty: () => void;
  /** From `#head` on; slots before it are cleared as turns leave. */
  #places: Array<Place | undefined> = [];
  #head = 0;

  constructor(onEmpty: () => void) {
    this.#onEmpty = onEmpty;
  }

  add(): Place {
    const place = new Place(this);
    this.#places.push(place);
    return place;
  }

  /** Is everything accepted before `place` decided? */
  isFront(place: Place): boolean {
    return this.#places[this.#head] === place;
  }

  /** A turn was decided: the decided ones leave the front, and the new front's waiter may go. */
  advance(): void {
    const places = this.#places;
    while (this.#head < places.length && places[this.#head]!.done) {
      places[this.#head]!.reachedFront(); // decided before its own turn came, and asked meanwhile
      places[this.#head++] = undefined;
    }
    if (this.#head === places.length) {
      this.#places = [];
      this.#head = 0;
      this.#onEmpty();
      return;
    }
    places[this.#head]!.reachedFront();
    if (this.#head > 1024 && this.#head * 2 > places.length) {
      this.#places = places.slice(this.#head);
      this.#head = 0;
    }
  }
}

class Place implements Turn {
  done = false;
  readonly #line: Line;
  #prior: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(line: Line) {
    this.#line = line;
  }

  get prior(): Promise<void> {
    if (this.#prior === undefined) {
      // Asked at the front (or once decided, when it has left the line): nothing to wait for.
      this.#prior = this.done || this.#line.isFront(this) ? SETTLED : new Promise<void>((resolve) => (this.#release = resolve));
    }
    return this.#prior;
  }

  decided(): void {
    if (this.done) return;
    this.done = true;
    this.#line.advance();
  }

  reachedFront(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}
