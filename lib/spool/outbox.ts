/**
 * Critical messages: the path that must not lose a write.
 *
 *   critical(peer, cmd)
 *     ├─ backlog for peer?        ─▶ spool it (behind the backlog, order kept);
 *     │                               link up: wait for its replayed reply until
 *     │                               the deadline, else `con_delayed`
 *     └─ otherwise send live with a msgid (a link that is down probes the
 *        peer when it may, or refuses at once)
 *           ├─ reply               ─▶ the reply
 *           ├─ transient reply     ─▶ spool it ─▶ `con_delayed` (retried later)
 *           └─ lost / deadline     ─▶ spool it ─▶ `con_delayed`
 *   Spooling is committed before the answer; a failed commit answers
 *   `con_failed`. Messages to one peer enter the spool in the order they
 *   were accepted (acceptance-order.ts). Secret-bearing commands are never
 *   spooled: `con_lost`.
 */
import { isTransientReply } from '../errors';
import type { Logger } from '../log';
import { redactCommand } from '../log';
import { AcceptanceOrder, type Turn } from './acceptance-order';
import { createMsgidSource } from '../wire/msgid';
import { RepeatLog } from '../repeat-log';
import { Replayer, type Courier } from './replay';
import type { Spool } from './spool';

/** A critical message on its way: live, or into the spool. */
interface Pending {
  readonly peer: string;
  readonly link: OutboxLink;
  readonly msgid: string;
  readonly command: string;
  readonly createdAt: number;
  readonly turn: Turn;
}

export interface OutboxLink extends Courier {
  send(command: string, opts: { timeoutMs: number; msgid: string }): Promise<string>;
  demand(): void;
}

export interface OutboxOptions {
  readonly spool: Spool;
  readonly link: (peer: string) => OutboxLink | undefined;
  readonly isSecret: (command: string) => boolean;
  /** Deadline for a replayed message's reply, ms. */
  readonly replayTimeoutMs: number;
  readonly lifetimeMs: number;
  readonly log: Logger;
  /** A spool that cannot be written fails every message until it can: each kind of failure is logged once per this period, ms. */
  readonly logRepeatMs: () => number;
}

/** Distinct (peer, failure) pairs logged one by one per period; the rest are counted together. */
const STORE_FAILURES_LOGGED_PER_PERIOD = 20;

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #replayers = new Map<string, Replayer>();
  readonly #nextMsgid = createMsgidSource();
  readonly #order = new AcceptanceOrder();
  readonly #storeFailures: RepeatLog;

  constructor(options: OutboxOptions) {
    this.#o = options;
    this.#storeFailures = new RepeatLog({
      periodMs: options.logRepeatMs,
      maxKeys: STORE_FAILURES_LOGGED_PER_PERIOD,
      write: (line) => options.log.error(line),
    });
    options.spool.onCommitted((peer) => this.#replayer(peer)?.kick());
  }

  /** Send a critical command to a peer (never this host; never an unknown id). */
  async critical(peer: string, command: string, timeoutMs: number): Promise<string> {
    const link = this.#o.link(peer);
    if (!link) return 'no_such_host';
    const secret = this.#o.isSecret(command);
    const msgid = this.#nextMsgid();
    const createdAt = Date.now();
    if (secret) return this.#secret(link, command, msgid, timeoutMs);
    const turn = this.#order.take(peer);
    const message: Pending = { peer, link, msgid, command, createdAt, turn };
    if (this.#o.spool.depth(peer) > 0) return this.#spoolBehindBacklog(message, timeoutMs);
    let reply: string;
    try {
      reply = await link.send(command, { timeoutMs, msgid });
    } catch (err) {
      this.#o.log.info(`spool: ${peer} did not answer (${(err as Error).message}); spooling ${redactCommand(command, false)}`);
      return this.#spoolNow(message);
    }
    if (!isTransientReply(reply)) {
      turn.decided();
      return reply;
    }
    this.#replayer(peer)?.holdBack(redactCommand(command, false), reply);
    return this.#spoolNow(message);
  }

  /** The link to `peer` came up: drain its backlog. */
  linkUp(peer: string): void {
    this.#replayer(peer)?.kick();
  }

  forget(peer: string): void {
    this.#replayers.get(peer)?.dispose();
    this.#replayers.delete(peer);
  }

  /** Secret-bearing commands are never spooled: live, or `con_lost`. */
  async #secret(link: OutboxLink, command: string, msgid: string, timeoutMs: number): Promise<string> {
    try {
      return await link.send(command, { timeoutMs, msgid });
    } catch {
      return 'con_lost';
    }
  }

  /**
   * Commit the message to the spool, in acceptance order; its seq, or
   * undefined (logged) when the commit failed.
   */
  async #store(m: Pending): Promise<number | undefined> {
    await m.turn.prior;
    const committed = this.#o.spool.enqueue(m.peer, m.msgid, m.command, m.createdAt);
    m.turn.decided();
    try {
      return await committed;
    } catch (err) {
      const why = (err as Error).message;
      this.#storeFailures.note(`${m.peer} ${why}`, () => `spool: could not store a critical message for ${m.peer}: ${why}`);
      return undefined;
    }
  }

  async #spoolNow(m: Pending): Promise<string> {
    if ((await this.#store(m)) === undefined) return 'con_failed';
    m.link.demand();
    return 'con_delayed';
  }

  async #spoolBehindBacklog(m: Pending, timeoutMs: number): Promise<string> {
    const seq = await this.#store(m);
    if (seq === undefined) return 'con_failed';
    if (m.link.state !== 'up') {
      m.link.demand();
      return 'con_delayed';
    }
    // The link is up and replaying: the client may hear the real reply soon.
    const replayer = this.#replayer(m.peer)!;
    return new Promise<string>((resolve) => {
      const timer = setTimeout(() => {
        cancel();
        resolve('con_delayed');
      }, timeoutMs);
      const cancel = replayer.wait(seq, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  #replayer(peer: string): Replayer | undefined {
    let r = this.#replayers.get(peer);
    if (r) return r;
    const link = this.#o.link(peer);
    if (!link) return undefined;
    r = new Replayer(peer, this.#o.spool, link, {
      timeoutMs: this.#o.replayTimeoutMs,
      lifetimeMs: this.#o.lifetimeMs,
      log: this.#o.log,
    });
    this.#replayers.set(peer, r);
    return r;
  }
}
