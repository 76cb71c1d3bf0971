/**
 * Running a command line: classic prefixes, the access check, and the
 * exactly-once rule for critical messages.
 *
 *   line ─▶ parse, once: strip `sethost:<id>:` (serve that alias) and
 *           `encrypt:` (every byte is encrypted anyway) ─▶ table.parse
 *           (the CommandLine says whether it writes: where it runs)
 *   execute ─▶ refusalOf? ─▶
 *   (sender, msgid) running now? ─▶ wait for that run's reply
 *   (sender, msgid) seen before? ─▶ the recorded reply, nothing runs again
 *   writes?             ─▶ handler + applied-id record in one transaction
 *   otherwise           ─▶ handler; its reply recorded when it has a msgid
 *
 * Ids are scoped by the authenticated sender, so no host can pre-empt or
 * read back another's. A transient reply (`error:transient:…`, the message
 * was not applied) is never recorded: the sender tries again.
 */
import type { HostRole } from '../config/hosts';
import { isTransientReply, LoncapadError, toClassicReply, transientReply } from '../errors';
import type { Logger } from '../log';
import type { ReplyRoom } from '../reply-room';
import { redactCommand } from '../log';
import type { CommandContext, DaemonServices } from './context';
import { AppliedBatch } from './applied-batch';
import { splitPrefixes } from './prefixes';
import { RepeatLog } from '../repeat-log';
import { storeFailure } from '../store/sqlite';
import { CommandTable, refusalOf, type CommandSpec } from './table';

/** Distinct (command, caller) refusals logged one by one per period; the rest are counted together. */
const REFUSALS_LOGGED_PER_PERIOD = 100;
/** Distinct (command, failure) pairs logged one by one per period; the rest are counted together. */
const FAILURES_LOGGED_PER_PERIOD = 20;

export interface Invocation {
  readonly caller: string;
  readonly callerRole: HostRole;
  readonly local: boolean;
  readonly manager: boolean;
  /** The lonid addressed (before any `sethost:` prefix). */
  readonly served: string;
  readonly msgid?: string | undefined;
  readonly replyRoom?: ReplyRoom | undefined;
  /** The local connection it came from (local-group-commit.ts keeps each one's order). */
  readonly origin?: object | undefined;
}

/**
 * A command line parsed once, before anything decides where it runs (a
 * batch's transaction or at once: runBatch, local-group-commit.ts): either
 * its command and fields, or the reply it gets without running.
 */
export type CommandLine =
  | {
      /** Does it write the store (so it belongs in a batch's transaction)? */
      readonly writes: boolean;
      readonly spec: CommandSpec;
      readonly args: string[];
      /** The line after its prefixes (what the debug log shows). */
      readonly rest: string;
      /** The alias a `sethost:` prefix asked to serve. */
      readonly sethost: string | undefined;
    }
  | { readonly writes: false; readonly reply: string };

export interface BatchItem<C = CommandLine> {
  readonly command: C;
  readonly inv: Invocation;
}

/**
 * One frame's replies, in order. With `durable`, the batch wrote: no reply
 * may leave before `durable` resolves (its commit is then on disk); if it
 * rejects, nothing of the batch may be acknowledged.
 */
export interface BatchResult {
  readonly replies: Array<string | Promise<string>>;
  readonly durable?: Promise<void> | undefined;
}

export class Dispatcher {
  readonly table: CommandTable;
  readonly #services: DaemonServices;
  readonly #log: Logger;
  /** Critical messages whose handler is still running, by sender and id: a second copy waits for the first. */
  readonly #running = new Map<string, Promise<string>>();
  /** Refusals are logged once per (command, caller) and period, repeats summed up. */
  readonly #refusals: RepeatLog;
  /**
   * Failures likewise, per (command, failure): a store that cannot be written
   * (an operator's write lock, a full disk) fails every write until it can,
   * and a line with a stack for each would flood the log.
   */
  readonly #failures: RepeatLog;
  /** While a batch runs in its transaction: its critical messages' applied ids. */
  #batch: AppliedBatch | undefined;

  constructor(table: CommandTable, services: DaemonServices, log: Logger) {
    this.table = table;
    this.#services = services;
    this.#log = log;
    this.#refusals = new RepeatLog({
      periodMs: () => services.settings.logRepeatMs,
      maxKeys: REFUSALS_LOGGED_PER_PERIOD,
      write: (line) => log.warn(line),
    });
    this.#failures = new RepeatLog({
      periodMs: () => services.settings.logRepeatMs,
      maxKeys: FAILURES_LOGGED_PER_PERIOD,
      write: (line) => log.error(line),
      overflowLine: (n, period) => `… and ${n} more command failures of other kinds in the last ${period}, not listed one by one`,
    });
  }

  /** Does this line carry a secret (so it must never be written to disk)? */
  isSecret(line: string): boolean {
    const { encrypted, rest } = splitPrefixes(line);
    return encrypted || this.table.isSecret(rest);
  }

  /** Run one command line; never throws, answers in the classic vocabulary. */
  run(line: string, inv: Invocation): string | Promise<string> {
    return this.execute(this.parse(line), inv);
  }

  /** Parse a line once (its prefixes, its command and fields); never throws. */
  parse(line: string): CommandLine {
    const { sethost, rest } = splitPrefixes(line);
    if (sethost !== undefined && !this.#services.ownIds().includes(sethost)) return { writes: false, reply: 'unable_to_set' };
    try {
      const { spec, args } = this.table.parse(rest);
      return { writes: spec.writes, spec, args, rest, sethost };
    } catch (err) {
      return { writes: false, reply: toClassicReply(err) };
    }
  }

  /** Run a parsed line; never throws, answers in the classic vocabulary. */
  execute(command: CommandLine, inv: Invocation): string | Promise<string> {
    if ('reply' in command) return command.reply;
    const { spec, args } = command;
    const ctx: CommandContext = {
      caller: inv.caller,
      callerRole: inv.callerRole,
      local: inv.local,
      manager: inv.manager,
      served: command.sethost ?? inv.served,
      msgid: inv.msgid,
      replyRoom: inv.replyRoom,
      services: this.#services,
    };
    const refusal = refusalOf(spec, ctx, args);
    if (refusal !== undefined) {
      this.#refusals.note(`${spec.name} ${inv.caller}`, () => `refused ${spec.name} from ${inv.caller}: ${refusal}`);
      return 'refused';
    }
    if (this.#log.enabled('debug')) this.#log.debug(`run ${redactCommand(command.rest, spec.secret)} for ${inv.caller}`);
    return inv.msgid === undefined ? this.#call(spec, args, ctx) : this.#callOnce(spec, args, ctx, inv.msgid);
  }

  /**
   * Run one frame's requests with their writes in one transaction (group
   * commit: one fsync for the batch). Each writing command gets its own
   * savepoint, so a failing one rolls back alone. Once a critical message
   * fails transiently, the critical messages after it are not run (they
   * answer transient too), so a sender's messages are never applied out of
   * order. Applied ids are looked up and recorded for the batch at once
   * (applied-batch.ts), inside its transaction.
   */
  runBatch(items: readonly BatchItem[]): BatchResult {
    const store = this.#services.store;
    const runAll = (): Array<string | Promise<string>> => {
      let blocked = false;
      return items.map((i) => {
        if (blocked && i.inv.msgid !== undefined) return transientReply('an earlier critical message was not applied');
        const reply = this.execute(i.command, i.inv);
        // A command's failure is its own reply, and the batch goes on; but if SQLite rolled the
        // whole transaction back, the batch fails whole (the catch below answers every request).
        if (store.batchRolledBack()) throw new LoncapadError('LC_ERR_STORE', 'SQLite rolled the batch back');
        if (i.inv.msgid !== undefined && typeof reply === 'string' && isTransientReply(reply)) blocked = true;
        return reply;
      });
    };
    // Read-only batches (pings, gets) need no transaction at all.
    if (!items.some((i) => i.command.writes)) return { replies: runAll() };
    const critical = items.filter((i) => i.inv.msgid !== undefined).map((i) => [i.inv.caller, i.inv.msgid!] as const);
    try {
      // The commit's fsync runs off the loop; the replies wait for it (durable).
      const { result, durable } = store.transactionSyncedLater(() => {
        this.#batch = new AppliedBatch(store.applied, critical);
        try {
          const replies = runAll();
          this.#batch.flush();
          return replies;
        } finally {
          this.#batch = undefined;
        }
      });
      return { replies: result, durable };
    } catch (err) {
      this.#log.error(`store commit failed: ${(err as Error).message}`);
      return { replies: items.map(() => toClassicReply(new LoncapadError('LC_ERR_STORE', 'store commit failed'))) };
    }
  }

  #call(spec: CommandSpec, args: string[], ctx: CommandContext): string | Promise<string> {
    try {
      if (spec.writes) return this.#writing(spec, args, () => this.#syncResult(spec, spec.run(ctx, args)));
      const r = spec.run(ctx, args);
      return typeof r === 'string' ? r : r.catch((err: unknown) => this.#failed(spec, err));
    } catch (err) {
      return this.#failed(spec, err);
    }
  }

  /**
   * A handler threw: refusals are answered as they are. A store that cannot
   * be written now is answered as such (transient), anything else as an
   * internal error (transient too); both are logged, the unexpected with its
   * stack, each kind once per period with its repeats summed up.
   */
  #failed(spec: CommandSpec, err: unknown): string {
    if (err instanceof LoncapadError) return toClassicReply(err);
    const message = err instanceof Error ? err.message : String(err);
    const store = storeFailure(err);
    if (store !== undefined) {
      this.#failures.note(`${spec.name} ${store}`, () => `${spec.name} failed: ${store}: ${message}`);
      return transientReply(store);
    }
    this.#failures.note(`${spec.name} ${message}`, () => `${spec.name} failed: ${(err as Error)?.stack ?? message}`);
    return toClassicReply(err);
  }

  #callOnce(spec: CommandSpec, args: string[], ctx: CommandContext, msgid: string): string | Promise<string> {
    const store = this.#services.store;
    // Only non-writing critical commands still running are here: usually none, so no key is built.
    const running = this.#running.size === 0 ? undefined : this.#running.get(runningKey(ctx.caller, msgid));
    if (running) {
      this.#log.info(`critical ${msgid} from ${ctx.caller} is running already; answering with its reply`);
      return running;
    }
    const seen = this.#batch ? this.#batch.reply(ctx.caller, msgid) : store.applied.reply(ctx.caller, msgid);
    if (seen !== undefined) {
      this.#log.info(`critical ${msgid} from ${ctx.caller} already applied; answering the recorded reply`);
      return seen;
    }
    if (spec.writes) {
      // The command and its applied-id record in one savepoint; a refusal rolls the command
      // back, and is recorded on its own, since it is the message's answer too.
      try {
        return this.#writing(spec, args, () => {
          const reply = this.#syncResult(spec, spec.run(ctx, args));
          if (!isTransientReply(reply)) this.#recordApplied(ctx.caller, msgid, reply);
          return reply;
        });
      } catch (err) {
        const reply = this.#failed(spec, err);
        if (!isTransientReply(reply)) this.#recordApplied(ctx.caller, msgid, reply);
        return reply;
      }
    }
    const r = this.#call(spec, args, ctx);
    if (typeof r === 'string') return this.#recorded(ctx.caller, msgid, r);
    const key = runningKey(ctx.caller, msgid);
    const once = r.then((reply) => this.#recorded(ctx.caller, msgid, reply)).finally(() => this.#running.delete(key));
    this.#running.set(key, once);
    return once;
  }

  /** Record the reply of a non-writing critical command (never a transient one); a failed record is logged, not thrown. */
  #recorded(sender: string, msgid: string, reply: string): string {
    if (isTransientReply(reply)) return reply;
    try {
      this.#recordApplied(sender, msgid, reply);
    } catch (err) {
      this.#log.error(`could not record critical ${msgid} from ${sender} as applied: ${(err as Error).message}`);
    }
    return reply;
  }

  /** In a batch, with the batch's records; otherwise at once. */
  #recordApplied(sender: string, msgid: string, reply: string): void {
    if (this.#batch) this.#batch.record(sender, msgid, reply);
    else this.#services.store.applied.record(sender, msgid, reply);
  }

  /** A writing command's own transaction: a savepoint in a batch, unless the call is atomic without one (CommandSpec.atomicAlone). */
  #writing<T>(spec: CommandSpec, args: readonly string[], fn: () => T): T {
    const store = this.#services.store;
    const alone = typeof spec.atomicAlone === 'function' ? spec.atomicAlone(args) : spec.atomicAlone === true;
    return alone ? store.heldWrite(fn) : store.transaction(fn);
  }

  #syncResult(spec: CommandSpec, r: string | Promise<string>): string {
    if (typeof r !== 'string') throw new Error(`writing command ${spec.name} returned a promise`);
    return r;
  }
}

/** A critical message's key among the ones running: its sender and id. */
function runningKey(sender: string, msgid: string): string {
  return `${sender}\0${msgid}`;
}
