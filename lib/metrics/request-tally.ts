/**
 * Routed requests counted in plain numbers (tally.ts): per (peer, command),
 * a latency histogram and the count of each result.
 */
import type { Registry } from 'prom-client';
import type { ReplyOutcome } from '../errors';
import { HistogramTally, registerCustom } from './tally';

export const REPLY_OUTCOMES: readonly ReplyOutcome[] = ['answered', 'delayed', 'not_done', 'refused'];

/** One (peer, command) pair's figures. */
export class PairTally {
  readonly peer: string;
  readonly command: string;
  readonly latency: HistogramTally;
  readonly results = new Float64Array(REPLY_OUTCOMES.length);

  constructor(peer: string, command: string, bounds: readonly number[]) {
    this.peer = peer;
    this.command = command;
    this.latency = new HistogramTally(bounds);
  }

  observe(seconds: number, outcome: ReplyOutcome): void {
    this.latency.observe(seconds);
    this.results[REPLY_OUTCOMES.indexOf(outcome)]!++;
  }
}

export class RequestTally {
  readonly #bounds: readonly number[];
  readonly #pairs: PairTally[] = [];

  /** Registers a `<prefix>request_duration_seconds` histogram and a `<prefix>requests_total` counter. */
  constructor(registry: Registry, prefix: string, bounds: readonly number[]) {
    this.#bounds = bounds;
    const pairs = this.#pairs;
    const seconds = `${prefix}request_duration_seconds`;
    registerCustom(
      registry,
      seconds,
      'Time from a local request being routed to its reply, by peer and command word (other: not in the hosts or command table).',
      'histogram',
      () => pairs.flatMap((p) => p.latency.samples(seconds, { peer: p.peer, command: p.command })),
    );
    registerCustom(
      registry,
      `${prefix}requests_total`,
      'Requests routed, by peer, command word and result (answered, delayed = spooled, not_done = con_lost and the like, refused).',
      'counter',
      () =>
        pairs.flatMap((p) =>
          REPLY_OUTCOMES.flatMap((result, i) => (p.results[i]! > 0 ? [{ labels: { peer: p.peer, command: p.command, result }, value: p.results[i]! }] : [])),
        ),
    );
  }

  /** A new pair's tally (the caller keeps it; pairs are bounded by the hosts and command tables). */
  pair(peer: string, command: string): PairTally {
    const t = new PairTally(peer, command, this.#bounds);
    this.#pairs.push(t);
    return t;
  }
}
