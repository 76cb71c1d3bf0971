/**
 * Local commands addressed to this host, committed together once per loop
 * turn, as a peer's frame is (Dispatcher.runBatch): the writes of every
 * local client in one turn share one transaction at synchronous=NORMAL and
 * one fdatasync of the WAL on the thread pool, and their replies leave once
 * that sync is done.
 *
 * Before, each local write was a transaction of its own at FULL: an fsync
 * on the event loop per write (64 writes in flight got 2,200–4,000 puts/s,
 * and everything else the daemon serves waited behind each fsync).
 *
 *   a read, no write of its connection queued ─▶ runs now
 *   a write, or anything behind a write of its connection ─▶ queued; at the
 *        turn's end the queue runs in arrival order as one batch ─▶ replies
 *        after its sync
 *   a batch still waiting for its sync ─▶ the queue keeps growing, and
 *        commits once that sync is done (real group commit: a commit made
 *        during a sync would wait for the next one anyway)
 *   more than MAX_COMMANDS_PER_BATCH queued ─▶ the first ones are this
 *        batch, the rest the next (one transaction runs on the loop: its
 *        size is bounded, as a peer's is by the inbound session's turn)
 *
 * A command that arrives behind a queued write of its own connection is
 * queued too, read or not, so each connection's commands run in the order
 * they came: a client that sends a put and then a get without waiting
 * reads its own write. Other clients' reads do not wait for the batch (they
 * cannot have heard of its writes: no reply leaves before the sync). A
 * command with no connection (none given) waits behind any queued write.
 */
import { transientReply } from '../errors';
import type { Logger } from '../log';
import type { BatchItem, BatchResult, CommandLine, Invocation } from './dispatch';

/** Commands run in one transaction: at ~10 µs a write, a few ms of the loop at most. */
export const MAX_COMMANDS_PER_BATCH = 256;

/** What a parsed line must tell: whether it writes. */
interface Parsed {
  readonly writes: boolean;
}

/** What this needs of the dispatcher (a line is parsed once, then run or batched). */
export interface BatchRunner<C extends Parsed = CommandLine> {
  parse(line: string): C;
  execute(command: C, inv: Invocation): string | Promise<string>;
  runBatch(items: ReadonlyArray<BatchItem<C>>): BatchResult;
}

interface Queued<C> {
  readonly item: BatchItem<C>;
  readonly answer: (reply: string | Promise<string>) => void;
}

export class LocalGroupCommit<C extends Parsed = CommandLine> {
  readonly #runner: BatchRunner<C>;
  readonly #log: Logger;
  #queue: Array<Queued<C>> = [];
  /** The connections with a command in the queue. */
  #origins = new Set<object>();
  #scheduled: NodeJS.Immediate | undefined;
  /** The last batch is waiting for its sync: the next one commits after it. */
  #syncing = false;

  constructor(runner: BatchRunner<C>, log: Logger) {
    this.#runner = runner;
    this.#log = log;
  }

  /** Run a local command: at once, or with this turn's batch (see the module comment). */
  run(line: string, inv: Invocation): string | Promise<string> {
    const command = this.#runner.parse(line);
    const behindWrite = inv.origin === undefined ? this.#queue.length > 0 : this.#origins.has(inv.origin);
    if (!behindWrite && !command.writes) return this.#runner.execute(command, inv);
    return new Promise((answer) => {
      this.#queue.push({ item: { command, inv }, answer });
      if (inv.origin !== undefined) this.#origins.add(inv.origin);
      this.#schedule();
    });
  }

  /** Commit what is queued at the end of this turn, unless a sync runs (its end calls this again). */
  #schedule(): void {
    if (!this.#syncing && this.#queue.length > 0) this.#scheduled ??= setImmediate(this.#commit);
  }

  readonly #commit = (): void => {
    this.#scheduled = undefined;
    const queued = this.#queue.length <= MAX_COMMANDS_PER_BATCH ? this.#queue : this.#queue.slice(0, MAX_COMMANDS_PER_BATCH);
    this.#queue = queued === this.#queue ? [] : this.#queue.slice(MAX_COMMANDS_PER_BATCH);
    // The connections still queued keep their place: their later commands wait behind them.
    this.#origins = new Set();
    for (const q of this.#queue) if (q.item.inv.origin !== undefined) this.#origins.add(q.item.inv.origin);
    const { replies, durable } = this.#runner.runBatch(queued.map((q) => q.item));
    const answerAll = (): void => queued.forEach((q, i) => q.answer(replies[i]!));
    if (durable === undefined) {
      answerAll();
      this.#schedule();
      return;
    }
    this.#syncing = true;
    durable
      .then(
        answerAll,
        (err: Error) => {
          // Committed, perhaps not on disk: nobody may hear it succeeded. The client may try again.
          this.#log.error(`store sync failed: ${err.message}`);
          for (const q of queued) q.answer(transientReply('store sync failed'));
        },
      )
      .finally(() => {
        this.#syncing = false;
        this.#schedule();
      });
  };
}
