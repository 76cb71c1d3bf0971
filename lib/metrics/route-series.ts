/**
 * Requests as they are routed: a count per outcome and a latency histogram,
 * per peer and command word.
 *
 *   route(peer, line) ─▶ label peer:    `.` → this host's id; a hosts-table id → itself; else `other`
 *                        label command: a command-table word → itself; else `other`
 *                     ─▶ cached children for (peer, command), made on first use
 *                     ─▶ reply ─▶ histogram.observe(seconds), requests{result}.inc()
 *
 * Labels come only from the hosts table and the command table, so the number
 * of series is bounded by what the operator configured, never by what a client
 * sends. The children are looked up in two Maps per request; no label object is
 * built after the first request of a pair.
 */
import { performance } from 'node:perf_hooks';
import type { Counter, Histogram } from 'prom-client';
import { CommandTable } from '../commands/table';
import { splitPrefixes } from '../commands/prefixes';
import { replyOutcome, type ReplyOutcome } from '../errors';

/** The label for anything outside the configured tables. */
export const OTHER_LABEL = 'other';

export interface RouteLabelSources {
  /** This host's lonid (for the `.` peer). */
  selfId(): string;
  isHost(id: string): boolean;
  isCommand(word: string): boolean;
}

interface PairSeries {
  readonly peer: string;
  readonly command: string;
  readonly seconds: Histogram.Internal<string>;
  readonly results: Map<ReplyOutcome, Counter.Internal>;
}

type Route<O> = (peer: string, command: string, opts: O) => Promise<string>;

export class RouteSeries {
  readonly #sources: RouteLabelSources;
  readonly #seconds: Histogram<string>;
  readonly #requests: Counter<string>;
  /** peer label → command label → children. */
  readonly #pairs = new Map<string, Map<string, PairSeries>>();

  constructor(sources: RouteLabelSources, seconds: Histogram<string>, requests: Counter<string>) {
    this.#sources = sources;
    this.#seconds = seconds;
    this.#requests = requests;
  }

  /** `route`, timed and counted. */
  wrap<O>(route: Route<O>): Route<O> {
    return (peer, command, opts) => {
      const series = this.#series(peer, command);
      const started = performance.now();
      const done = (reply: string): string => {
        series.seconds.observe((performance.now() - started) / 1000);
        this.#count(series, replyOutcome(reply));
        return reply;
      };
      return route(peer, command, opts).then(done, (err: unknown) => {
        // The local sockets answer a rejected route with a transient error.
        series.seconds.observe((performance.now() - started) / 1000);
        this.#count(series, 'not_done');
        throw err;
      });
    };
  }

  #series(peer: string, command: string): PairSeries {
    const peerLabel = this.#peerLabel(peer);
    const commandLabel = this.#commandLabel(command);
    let byCommand = this.#pairs.get(peerLabel);
    if (byCommand === undefined) this.#pairs.set(peerLabel, (byCommand = new Map()));
    let series = byCommand.get(commandLabel);
    if (series === undefined) {
      series = { peer: peerLabel, command: commandLabel, seconds: this.#seconds.labels(peerLabel, commandLabel), results: new Map() };
      byCommand.set(commandLabel, series);
    }
    return series;
  }

  #count(series: PairSeries, result: ReplyOutcome): void {
    let counter = series.results.get(result);
    if (counter === undefined) {
      counter = this.#requests.labels(series.peer, series.command, result);
      series.results.set(result, counter);
    }
    counter.inc();
  }

  #peerLabel(peer: string): string {
    const s = this.#sources;
    if (peer === '.') return s.selfId();
    return s.isHost(peer) ? peer : OTHER_LABEL;
  }

  #commandLabel(line: string): string {
    let word = CommandTable.wordOf(line);
    // `encrypt:` and `sethost:<id>:` only wrap the command that follows.
    if (word === 'encrypt' || word === 'sethost') word = CommandTable.wordOf(splitPrefixes(line).rest);
    return this.#sources.isCommand(word) ? word : OTHER_LABEL;
  }
}
