/**
 * Series counted in plain numbers on the hot path and shown to Prometheus
 * only when it scrapes.
 *
 * prom-client's label children hash their label object on every observe and
 * inc; at 100,000 requests a second that was a tenth of the daemon's busy
 * time. A tally costs a bucket search over a dozen bounds and two
 * increments; the registry asks for the text through the same `get()` shape
 * its own metrics have, so the exposition (and `promtool`) sees an ordinary
 * histogram or counter.
 */
import type { Registry } from 'prom-client';

export interface MetricValue {
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

/** Register a metric whose samples `values()` gives at each scrape, as the registry reads its own. */
export function registerCustom(registry: Registry, name: string, help: string, type: CustomMetric['type'], values: () => MetricValue[]): void {
  const metric: CustomMetric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name, help, type, values: values(), aggregator: 'sum' }),
  };
  registry.registerMetric(metric as never);
}

/** One histogram's observations: per bucket, their sum and their count. */
export class HistogramTally {
  /** Per upper bound (and +Inf last): observations at or below it, not cumulative. */
  readonly buckets: Float64Array;
  sumSeconds = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.buckets[i]!++;
    this.sumSeconds += seconds;
    this.count++;
  }

  /** The samples of histogram `name` for `labels`: cumulative buckets, then sum and count. */
  samples(name: string, labels: Record<string, string>): MetricValue[] {
    const bounds = this.#bounds;
    const out: MetricValue[] = [];
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative += this.buckets[i]!;
      out.push({ labels: { le: i < bounds.length ? bounds[i]! : '+Inf', ...labels }, value: cumulative, metricName: `${name}_bucket` });
    }
    out.push({ labels, value: this.sumSeconds, metricName: `${name}_sum` });
    out.push({ labels, value: this.count, metricName: `${name}_count` });
    return out;
  }
}
