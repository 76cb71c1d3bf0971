/**
 * Critical messages: the path that must not lose a write.
 *
 *   critical(peer, cmd)
 *     ├─ backlog for peer?        ─▶ spool it (behind the backlog, order kept);
 *     │                               link up: wait for its replayed reply until
 *     │                               the deadline, else `con_delayed`
 *     ├─ link backing off / dead? ─▶ spool it ─▶ `con_delayed`
 *     └─ otherwise send live with a msgid
 *           ├─ reply               ─▶ the reply
 *           └─ lost / deadline     ─▶ spool it ─▶ `con_delayed`
 *   Spooling is committed before the answer; a failed commit answers
 *   `con_failed`. Secret-bearing commands are never spooled: `con_lost`.
 */
import type { Logger } from '../log';
import { redactCommand } from '../log';
import { createMsgidSource } from './msgid';
import { Replayer, type Courier } from './replay';
import type { Spool } from './spool';

export interface OutboxLink extends Courier {
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
}

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #replayers = new Map<string, Replayer>();
  readonly #nextMsgid = createMsgidSource();

  constructor(options: OutboxOptions) {
    this.#o = options;
    options.spool.onCommitted((peer) => this.#replayer(peer)?.kick());
  }

  /** Send a critical command to a peer (never this host; never an unknown id). */
  async critical(peer: string, command: string, timeoutMs: number): Promise<string> {
    const link = this.#o.link(peer);
    if (!link) return 'no_such_host';
    const secret = this.#o.isSecret(command);
    const msgid = this.#nextMsgid();
    const createdAt = Date.now();
    if (!secret && this.#o.spool.depth(peer) > 0) return this.#spoolBehindBacklog(peer, link, msgid, command, createdAt, timeoutMs);
    if (link.state === 'backoff' || link.state === 'dead') {
      return secret ? 'con_lost' : this.#spoolNow(peer, link, msgid, command, createdAt);
    }
    try {
      return await link.send(command, { timeoutMs, msgid });
    } catch (err) {
      if (secret) return 'con_lost';
      this.#o.log.info(`spool: ${peer} did not answer (${(err as Error).message}); spooling ${redactCommand(command, false)}`);
      return this.#spoolNow(peer, link, msgid, command, createdAt);
    }
  }

  /** The link to `peer` came up: drain its backlog. */
  linkUp(peer: string): void {
    this.#replayer(peer)?.kick();
  }

  forget(peer: string): void {
    this.#replayers.get(peer)?.dispose();
    this.#replayers.delete(peer);
  }

  /** Commit the message to the spool; its seq, or undefined (logged) when the commit failed. */
  async #store(peer: string, msgid: string, command: string, createdAt: number): Promise<number | undefined> {
    try {
      return await this.#o.spool.enqueue(peer, msgid, command, createdAt);
    } catch (err) {
      this.#o.log.error(`spool: could not store a critical message for ${peer}: ${(err as Error).message}`);
      return undefined;
    }
  }

  async #spoolNow(peer: string, link: OutboxLink, msgid: string, command: string, createdAt: number): Promise<string> {
    if ((await this.#store(peer, msgid, command, createdAt)) === undefined) return 'con_failed';
    link.demand();
    return 'con_delayed';
  }

  async #spoolBehindBacklog(
    peer: string,
    link: OutboxLink,
    msgid: string,
    command: string,
    createdAt: number,
    timeoutMs: number,
  ): Promise<string> {
    const seq = await this.#store(peer, msgid, command, createdAt);
    if (seq === undefined) return 'con_failed';
    if (link.state !== 'up') {
      link.demand();
      return 'con_delayed';
    }
    // The link is up and replaying: the client may hear the real reply soon.
    const replayer = this.#replayer(peer)!;
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
