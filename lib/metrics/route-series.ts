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
 * sends. A pair's tally is looked up in two Maps per request, and counted in
 * plain numbers (request-tally.ts).
 */
import { performance } from 'node:perf_hooks';
import { CommandTable } from '../commands/table';
import { splitPrefixes } from '../commands/prefixes';
import { replyOutcome } from '../errors';
import type { PairTally, RequestTally } from './request-tally';

/** The label for anything outside the configured tables. */
export const OTHER_LABEL = 'other';

export interface RouteLabelSources {
  /** This host's lonid (for the `.` peer). */
  selfId(): string;
  isHost(id: string): boolean;
  isCommand(word: string): boolean;
}

type Route<O> = (peer: string, command: string, opts: O) => Promise<string>;

export class RouteSeries {
  readonly #sources: RouteLabelSources;
  readonly #tally: RequestTally;
  /** peer label → command label → its tally. */
  readonly #pairs = new Map<string, Map<string, PairTally>>();

  constructor(sources: RouteLabelSources, tally: RequestTally) {
    this.#sources = sources;
    this.#tally = tally;
  }

  /** `route`, timed and counted. */
  wrap<O>(route: Route<O>): Route<O> {
    return (peer, command, opts) => {
      const pair = this.#pair(peer, command);
      const started = performance.now();
      return route(peer, command, opts).then(
        (reply) => {
          pair.observe((performance.now() - started) / 1000, replyOutcome(reply));
          return reply;
        },
        (err: unknown) => {
          // The local sockets answer a rejected route with a transient error.
          pair.observe((performance.now() - started) / 1000, 'not_done');
          throw err;
        },
      );
    };
  }

  #pair(peer: string, command: string): PairTally {
    const peerLabel = this.#peerLabel(peer);
    const commandLabel = this.#commandLabel(command);
    let byCommand = this.#pairs.get(peerLabel);
    if (byCommand === undefined) this.#pairs.set(peerLabel, (byCommand = new Map()));
    let pair = byCommand.get(commandLabel);
    if (pair === undefined) byCommand.set(commandLabel, (pair = this.#tally.pair(peerLabel, commandLabel)));
    return pair;
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
