/**
 * The daemon's Prometheus series, in one registry of its own (never
 * prom-client's global one, so nothing else in the process can add to or
 * reset it). The only module besides route-series.ts that imports prom-client.
 *
 * Two kinds of series:
 *   - counted as things happen, through hooks daemon.ts wires to the parts:
 *     requests and their latency (route-series.ts), link reconnects, spool
 *     events, auth failures, web responses. Each hook is an increment on a
 *     child cached per label value, or (requests, spool events: the hot
 *     paths) on a plain number read at scrape time, nothing more;
 *   - read at scrape time from the parts (`MetricSources`): link states, spool
 *     depth and the age of each peer's oldest message. Nothing runs for them
 *     between scrapes.
 * Plus prom-client's default metrics (event-loop lag, CPU, memory, handles,
 * GC) under the same `loncapad_` prefix.
 *
 * Every label value comes from the hosts table, the command table or a fixed
 * list, so the series are bounded by the configuration (docs/operations.md,
 * "Metrics", lists them).
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LINK_EDGES, type LinkState } from '../peers/link-state';
import type { AsideReason, SpoolObserver } from '../spool/spool';
import type { SyncedDatabase } from '../store/wal-sync';
import type { WebObserver } from '../web';
import { RequestTally } from './request-tally';
import { RouteSeries, type RouteLabelSources } from './route-series';
import { HistogramTally, registerCustom } from './tally';

export const METRIC_PREFIX = 'loncapad_';

/**
 * How often the event-loop delay monitor (behind prom-client's
 * `nodejs_eventloop_lag_p50/p90/p99/max_seconds`) samples, ms. Each sample
 * is a timer that wakes the loop: at prom-client's default of 10 ms an idle
 * daemon spent ~0.6 % of a core on it alone (one of these virtual machines),
 * at 50 ms ~0.25 %. A stall of 50 ms or more is still always seen, and
 * `event_loop_utilization` tells how busy the loop was at no cost at all.
 */
const EVENT_LOOP_SAMPLE_MS = 50;

/** WAL sync buckets, seconds: a quiet SSD (~0.1 ms) up to a disk in trouble (a second or more). */
const WAL_SYNC_SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Request latency buckets, seconds: a local dispatch (~0.1 ms) up to the default deadline (30 s). */
const REQUEST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const LINK_STATES = Object.keys(LINK_EDGES) as LinkState[];

/** Kinds of authentication failure counted. */
export type AuthFailureKind = 'web_login' | 'auth_command';

/** What the scrape reads from the running parts. */
export interface MetricSources extends RouteLabelSources {
  /** Every peer link: the peer's lonid and its state now. */
  links(): Iterable<{ readonly peer: string; readonly state: LinkState }>;
  /** Ready messages spooled for `peer`. */
  spoolDepth(peer: string): number;
  /** When the oldest message spooled for `peer` was handed in (ms since the epoch), if any. */
  spoolOldest(peer: string): number | undefined;
  readonly version: string;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #routes: RouteSeries;
  readonly #reconnects: Counter<'peer'>;
  readonly #reconnectsByPeer = new Map<string, Counter.Internal>();
  /** Spool events by peer, in plain numbers until a scrape. */
  readonly #spoolEvents: Record<'enqueued' | 'replayed' | 'delivered', Map<string, number>>;
  readonly #setAside: Record<AsideReason, Counter.Internal>;
  readonly #authFailures: Record<AuthFailureKind, Counter.Internal>;
  readonly #webRequests: Counter<'code'>;
  readonly #webByCode = new Map<number, Counter.Internal>();
  readonly #walSyncs: Record<SyncedDatabase, HistogramTally> = {
    spool: new HistogramTally(WAL_SYNC_SECONDS_BUCKETS),
    store: new HistogramTally(WAL_SYNC_SECONDS_BUCKETS),
  };

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    collectDefaultMetrics({ register: this.registry, prefix: p, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // prom-client names these gauges `_total`, a suffix Prometheus keeps for
    // counters (promtool refuses them); the same figures remain, by type, in
    // nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(p + name);
    }

    new Gauge({
      name: `${p}build_info`,
      help: 'Always 1; the labels name this daemon and its version.',
      labelNames: ['host', 'version'],
      registers,
      collect() {
        this.reset();
        this.set({ host: sources.selfId(), version: sources.version }, 1);
      },
    });

    // libuv counts the loop's idle time anyway; reading it at each scrape costs nothing between scrapes.
    let sinceLastScrape = performance.eventLoopUtilization();
    new Gauge({
      name: `${p}event_loop_utilization`,
      help: 'Fraction of the time since the previous scrape that the event loop was busy rather than waiting for I/O or timers, 0 to 1: near 1, this host is overloaded.',
      registers,
      collect() {
        const now = performance.eventLoopUtilization();
        this.set(performance.eventLoopUtilization(now, sinceLastScrape).utilization);
        sinceLastScrape = now;
      },
    });

    this.#routes = new RouteSeries(sources, new RequestTally(this.registry, p, REQUEST_SECONDS_BUCKETS));

    new Gauge({
      name: `${p}peer_link_state`,
      help: 'State of the outbound link to each peer: 1 for the state it is in, 0 for the others.',
      labelNames: ['peer', 'state'],
      registers,
      collect() {
        this.reset();
        for (const link of sources.links()) {
          for (const state of LINK_STATES) this.set({ peer: link.peer, state }, state === link.state ? 1 : 0);
        }
      },
    });
    this.#reconnects = new Counter({
      name: `${p}peer_reconnects_total`,
      help: 'Connect attempts to a peer after a failed attempt or a lost link (from backoff or dead).',
      labelNames: ['peer'],
      registers,
    });

    new Gauge({
      name: `${p}spool_depth`,
      help: 'Critical messages waiting in the spool for each peer (not counting held ones).',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const link of sources.links()) this.set({ peer: link.peer }, sources.spoolDepth(link.peer));
      },
    });
    new Gauge({
      name: `${p}spool_oldest_age_seconds`,
      help: "Age of the oldest message waiting in each peer's spool queue (held ones included); 0 when none waits.",
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const link of sources.links()) {
          const oldest = sources.spoolOldest(link.peer);
          this.set({ peer: link.peer }, oldest === undefined ? 0 : Math.max(0, now - oldest) / 1000);
        }
      },
    });
    // Spool events are counted in plain numbers and handed to prom-client when it scrapes:
    // a label child's inc() hashes and allocates on every call, a tenth of the replayer's garbage.
    const spoolCounter = (event: string, help: string): Map<string, number> => {
      const byPeer = new Map<string, number>();
      new Counter({
        name: `${p}spool_${event}_total`,
        help,
        labelNames: ['peer'] as const,
        registers,
        collect() {
          this.reset();
          for (const [peer, n] of byPeer) this.inc({ peer }, n);
        },
      });
      return byPeer;
    };
    this.#spoolEvents = {
      enqueued: spoolCounter('enqueued', 'Critical messages committed to the spool, by destination peer.'),
      replayed: spoolCounter('replayed', 'Spooled messages sent by the replayer (a message sent again counts again), by peer.'),
      delivered: spoolCounter('delivered', 'Spooled messages answered by their peer and removed, by peer.'),
    };
    const setAside = new Counter({
      name: `${p}spool_set_aside_total`,
      help: 'Spooled messages moved aside: failed (the peer refused them) or expired (older than --spool-lifetime-ms).',
      labelNames: ['reason'],
      registers,
    });
    this.#setAside = { failed: shownAtZero(setAside, 'failed'), expired: shownAtZero(setAside, 'expired') };

    const auth = new Counter({
      name: `${p}auth_failures_total`,
      help: 'Failed authentications: web_login (wrong password, unknown user, throttled) and auth_command (auth answered non_authorized here).',
      labelNames: ['kind'],
      registers,
    });
    this.#authFailures = { web_login: shownAtZero(auth, 'web_login'), auth_command: shownAtZero(auth, 'auth_command') };

    const walSyncs = this.#walSyncs;
    const walSeconds = `${p}wal_sync_duration_seconds`;
    registerCustom(
      this.registry,
      walSeconds,
      'Time each fdatasync of a WAL took, from its start on the thread pool until the event loop heard it was done, by database (spool: critical messages, store: user data). Every con_delayed and every durable reply waits for one.',
      'histogram',
      () => (['spool', 'store'] as const).flatMap((database) => walSyncs[database].samples(walSeconds, { database })),
    );

    this.#webRequests = new Counter({
      name: `${p}web_requests_total`,
      help: 'Web responses sent, by status code.',
      labelNames: ['code'],
      registers,
    });
  }

  /** `route`, timed and counted per peer and command word. */
  timeRoute<O>(route: (peer: string, command: string, opts: O) => Promise<string>): (peer: string, command: string, opts: O) => Promise<string> {
    return this.#routes.wrap(route);
  }

  /** A link changed state (the peer table's 'state' event). */
  readonly linkStateChanged = (peer: string, to: LinkState, from: LinkState): void => {
    if (to === 'connecting' && (from === 'backoff' || from === 'dead')) childOf(this.#reconnects, this.#reconnectsByPeer, peer).inc();
  };

  /** For `Spool.observer`. */
  readonly spool: SpoolObserver = {
    enqueued: (peer) => this.#spoolEvent('enqueued', peer),
    replayed: (peer) => this.#spoolEvent('replayed', peer),
    delivered: (peer) => this.#spoolEvent('delivered', peer),
    setAside: (reason, count) => this.#setAside[reason].inc(count),
  };

  /** For the web server's `observer` option. */
  readonly web: WebObserver = {
    responded: (status) => {
      let child = this.#webByCode.get(status);
      if (child === undefined) this.#webByCode.set(status, (child = this.#webRequests.labels(String(status))));
      child.inc();
    },
    loginFailed: () => this.#authFailures.web_login.inc(),
  };

  /** For `SyncFigures.observe` of the spool's and the store's WAL syncs: each one's time. */
  walSynced(database: SyncedDatabase): (seconds: number) => void {
    const tally = this.#walSyncs[database];
    return (seconds) => tally.observe(seconds);
  }

  /** `auth` answered `non_authorized` (DaemonServices.onAuthRefused). */
  readonly authRefused = (): void => {
    this.#authFailures.auth_command.inc();
  };

  /** The text exposition format and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  #spoolEvent(event: 'enqueued' | 'replayed' | 'delivered', peer: string): void {
    const byPeer = this.#spoolEvents[event];
    byPeer.set(peer, (byPeer.get(peer) ?? 0) + 1);
  }
}

/** A child of a counter with a fixed set of label values, exported from the start (at 0) so rates work from the first scrape. */
function shownAtZero(counter: Counter<string>, value: string): Counter.Internal {
  const child = counter.labels(value);
  child.inc(0);
  return child;
}

/** The child of `counter` for one label value, made once. */
function childOf(counter: Counter<string>, cache: Map<string, Counter.Internal>, value: string): Counter.Internal {
  let child = cache.get(value);
  if (child === undefined) cache.set(value, (child = counter.labels(value)));
  return child;
}
