/**
 * Routed requests counted in plain numbers on the hot path, and shown to
 * Prometheus only when it scrapes.
 *
 * prom-client's label children hash their label object on every observe and
 * inc; at 100,000 requests a second that was a tenth of the daemon's busy
 * time. Here a request costs a bucket search over a dozen bounds and three
 * increments on a tally made once per (peer, command); the registry asks for
 * the text through the same `get()` shape its own metrics have, so the
 * exposition (and `promtool`) sees an ordinary histogram and counter.
 */
import type { Registry } from 'prom-client';
import type { ReplyOutcome } from '../errors';

export const REPLY_OUTCOMES: readonly ReplyOutcome[] = ['answered', 'delayed', 'not_done', 'refused'];

/** One (peer, command) pair's figures. */
export class PairTally {
  readonly peer: string;
  readonly command: string;
  /** Per upper bound (and +Inf last): observations at or below it, not cumulative. */
  readonly buckets: Float64Array;
  sumSeconds = 0;
  count = 0;
  readonly results = new Float64Array(REPLY_OUTCOMES.length);
  readonly #bounds: readonly number[];

  constructor(peer: string, command: string, bounds: readonly number[]) {
    this.peer = peer;
    this.command = command;
    this.#bounds = bounds;
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number, outcome: ReplyOutcome): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.buckets[i]!++;
    this.sumSeconds += seconds;
    this.count++;
    this.results[REPLY_OUTCOMES.indexOf(outcome)]!++;
  }
}

interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** What prom-client's Registry reads from a metric object (the shape of its own metrics' `get()`). */
interface CustomMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram' | 'counter';
  readonly aggregator: 'sum';
  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' };
}

/** A metric the registry reads through `get()`, as it reads its own. */
function customMetric(name: string, help: string, type: CustomMetric['type'], values: () => MetricValue[]): CustomMetric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name, help, type, values: values(), aggregator: 'sum' }),
  };
}

export class RequestTally {
  readonly #bounds: readonly number[];
  readonly #pairs: PairTally[] = [];

  /** Registers a `<prefix>request_duration_seconds` histogram and a `<prefix>requests_total` counter. */
  constructor(registry: Registry, prefix: string, bounds: readonly number[]) {
    this.#bounds = bounds;
    const pairs = this.#pairs;
    const seconds = `${prefix}request_duration_seconds`;
    const histogram = customMetric(
      seconds,
      'Time from a local request being routed to its reply, by peer and command word (other: not in the hosts or command table).',
      'histogram',
      () =>
        pairs.flatMap((p) => {
          const labels = { peer: p.peer, command: p.command };
          let cumulative = 0;
          const buckets: MetricValue[] = [];
          for (let i = 0; i <= bounds.length; i++) {
            cumulative += p.buckets[i]!;
            buckets.push({ labels: { le: i < bounds.length ? bounds[i]! : '+Inf', ...labels }, value: cumulative, metricName: `${seconds}_bucket` });
          }
          buckets.push({ labels, value: p.sumSeconds, metricName: `${seconds}_sum` });
          buckets.push({ labels, value: p.count, metricName: `${seconds}_count` });
          return buckets;
        }),
    );
    const counter = customMetric(
      `${prefix}requests_total`,
      'Requests routed, by peer, command word and result (answered, delayed = spooled, not_done = con_lost and the like, refused).',
      'counter',
      () =>
        pairs.flatMap((p) =>
          REPLY_OUTCOMES.flatMap((result, i) => (p.results[i]! > 0 ? [{ labels: { peer: p.peer, command: p.command, result }, value: p.results[i]! }] : [])),
        ),
    );
    registry.registerMetric(histogram as never);
    registry.registerMetric(counter as never);
  }

  /** A new pair's tally (the caller keeps it; pairs are bounded by the hosts and command tables). */
  pair(peer: string, command: string): PairTally {
    const t = new PairTally(peer, command, this.#bounds);
    this.#pairs.push(t);
    return t;
  }
}
