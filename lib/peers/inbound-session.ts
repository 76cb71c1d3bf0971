/**
 * One inbound connection from a peer (classic lond's child), from the first
 * byte to the close:
 *
 *   hello ─▶ finish ─▶ up ─▶ closed
 *
 *   1. Hello: the claimed lonid must be listed at exactly the source address,
 *      and the addressed lonid must be one of ours, else close (the reason is
 *      logged, the peer is told nothing);
 *   2. Finish: the peer proves it holds the key listed for its lonid; only
 *      then is any command read. Frames are taken one at a time, so a sealed
 *      frame that arrives in the same read as Finish is read under the
 *      session's limit, not the handshake's;
 *   3. sealed frames: requests run through the executor, at most
 *      MAX_COMMANDS_PER_TURN per loop turn, replies go back batched. When a
 *      critical message fails for a reason of ours (a transient reply), the
 *      replies so far are sent and the session ends: nothing the peer sent
 *      after it is run, so its messages are never applied out of order (it
 *      resends them, in order, on its next link).
 *
 * Liveness (liveness.ts): the listener checks every session's clock; a
 * silent peer, a frame that never finishes and a close that never completes
 * all end the session.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HostEntry, HostsTable } from '../config/hosts';
import { isTransientReply, transientReply, type CloseReason } from '../errors';
import {
  consumeFinish,
  createServerHello,
  decodeMessages,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  HANDSHAKE_TIMEOUT_MS,
  MAC_BYTES,
  MAX_FRAME_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  parseHello,
  SealedWriter,
  type ResponseCreated,
  type SealedSession,
  type StaticKeys,
} from '../wire';
import type { Logger } from '../log';
import { replyRoom, type ReplyRoom } from '../reply-room';
import { checkInbound, type LivenessAction, type LivenessTiming } from './liveness';
import type { HandshakePacer } from './handshake-pacer';
import type { RefusalLog } from './refusal-log';

export interface InboundRequest {
  readonly id: number;
  readonly command: string;
  readonly msgid: string | undefined;
}

export interface Executor {
  /**
   * Run requests from `caller`, in order; replies in the same order, each a
   * line or a promise of one. `room` says whether the link has room for
   * large replies (lib/reply-room.ts).
   */
  executeBatch(caller: HostEntry, served: string, requests: readonly InboundRequest[], room: ReplyRoom): ExecutedBatch;
}

/** Replies in request order; with `durable`, none may leave before it resolves (the batch's writes are then on disk). */
export interface ExecutedBatch {
  readonly replies: Array<string | Promise<string>>;
  readonly durable?: Promise<void> | undefined;
}

/** What a session needs of the listener that accepted it. */
export interface SessionOptions {
  readonly keys: StaticKeys;
  readonly hosts: () => HostsTable;
  readonly ownIds: () => readonly string[];
  readonly executor: Executor;
  readonly log: Logger;
  readonly refusals: RefusalLog;
  readonly timing: LivenessTiming;
  /** Handshake crypto shares the loop with everything else (handshake-pacer.ts). */
  readonly pacer: HandshakePacer;
}

/**
 * Commands served per connection per loop turn before yielding to other
 * connections (Redis's NET_MAX_WRITES_PER_EVENT idea): one peer's burst never
 * stalls the rest.
 */
const MAX_COMMANDS_PER_TURN = 256;
/** Requests of one session still running (handlers that answer later); past this, reading pauses. */
export const MAX_IN_PROGRESS_PER_SESSION = 64;
/**
 * Replies of one session not yet handed to the kernel, characters; past
 * this, large replies for it wait before they are built (reply-room.ts).
 * Reading goes on, so short requests on the same link are still answered.
 */
export const MAX_PENDING_OUTPUT_CHARS = 16 * 1024 * 1024;
/** While paused for either limit, check again this often, ms. */
const RESUME_CHECK_MS = 10;

type SessionState = 'hello' | 'finish' | 'up' | 'closed';

export interface SessionHooks {
  /** The session authenticated `peer` serving `served` (the listener keeps one per pair). */
  readonly authenticated: (session: InboundSession) => void;
  /** Bytes buffered in partial frames changed by `delta`. */
  readonly partialBytes: (session: InboundSession, delta: number) => void;
  readonly gone: (session: InboundSession) => void;
  /** Is the daemon shutting down (answer requests as transient failures)? */
  readonly stopping: () => boolean;
}

export class InboundSession {
  peer: HostEntry | undefined;
  served = '';
  readonly ip: string;
  #state: SessionState = 'hello';
  readonly #sock: Socket;
  readonly #o: SessionOptions;
  readonly #hooks: SessionHooks;
  readonly #decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
  #pending: ResponseCreated | undefined;
  #session: SealedSession | undefined;
  #writer: SealedWriter | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** Requests decoded but not yet run (more than one turn's worth arrived, or paused). */
  #queue: InboundRequest[] = [];
  #drainSoon: NodeJS.Immediate | undefined;
  #drainLater: NodeJS.Timeout | undefined;
  /** Requests whose handlers answer later. */
  #inProgress = 0;
  /** A critical message failed transiently: run nothing more, end after the replies. */
  #ending = false;
  #lastRecvAt = performance.now();
  #partialSince: number | undefined;
  #partialBytes = 0;
  #closingSince: number | undefined;
  /** The Hello's crypto waits for its turn (HandshakePacer); frames after it wait with it. */
  #stepPending = false;
  readonly #room = replyRoom(() => (this.#writer?.pendingChars ?? 0) + this.#sock.writableLength < MAX_PENDING_OUTPUT_CHARS);

  constructor(sock: Socket, ip: string, o: SessionOptions, hooks: SessionHooks) {
    this.#sock = sock;
    this.ip = ip;
    this.#o = o;
    this.#hooks = hooks;
    this.#handshakeTimer = setTimeout(() => this.#refuse(`handshake not finished in ${HANDSHAKE_TIMEOUT_MS} ms`), HANDSHAKE_TIMEOUT_MS);
    sock.on('data', (chunk: Buffer) => this.#onData(chunk));
    sock.on('error', () => {}); // 'close' follows; the reason is logged there when it matters
    sock.on('close', () => this.#onClose());
  }

  get isUp(): boolean {
    return this.#state === 'up';
  }

  get partialBytes(): number {
    return this.#partialBytes;
  }

  /** Flush what is queued and close; a peer that never finishes closing is destroyed by the liveness check. */
  close(reason: CloseReason): void {
    if (this.#state === 'closed' || this.#closingSince !== undefined) return;
    this.#o.log.info(`inbound link from ${this.#who()} closed (${reason})`);
    this.#closingSince = performance.now();
    this.#queue = [];
    this.#writer?.flush();
    this.#sock.end();
  }

  /** Drop at once, without flushing (protocol violations, liveness). */
  destroy(reason: CloseReason, why: string): void {
    if (this.#state === 'closed') return;
    this.#o.log.warn(`inbound link from ${this.#who()}: ${reason}: ${why}`);
    this.#sock.destroy();
  }

  /** What the liveness policy says about this session now. */
  check(now: number): LivenessAction {
    if (this.#state !== 'up' && this.#closingSince === undefined) return 'none'; // the handshake timer covers it
    return checkInbound(this.#o.timing, {
      now,
      lastRecvAt: this.#lastRecvAt,
      partialSince: this.#partialSince,
      closingSince: this.#closingSince,
      busy: this.#queue.length > 0 || this.#inProgress > 0 || (this.#writer?.pendingChars ?? 0) > 0,
    });
  }

  #who(): string {
    return this.peer ? this.peer.id : this.ip;
  }

  #onData(chunk: Buffer): void {
    this.#lastRecvAt = performance.now();
    this.#decoder.push(chunk);
    if (!this.#stepPending) this.#drainFrames();
  }

  /**
   * One frame at a time: Finish raises the limit for the frames after it,
   * and answering the Hello (its crypto) waits for its turn
   * (HandshakePacer) with every frame behind it.
   */
  #drainFrames(): void {
    let queued = false;
    try {
      for (let body = this.#decoder.next(); body !== undefined; body = this.#decoder.next()) {
        switch (this.#state) {
          case 'hello': {
            this.#stepPending = true;
            const hello = body;
            this.#o.pacer.step(() => {
              this.#stepPending = false;
              if (this.#state !== 'hello') return;
              try {
                this.#onHello(hello);
              } catch (err) {
                return this.#refuse((err as Error).message);
              }
              this.#drainFrames();
            });
            return;
          }
          case 'finish':
            this.#onFinish(body);
            break;
          case 'up':
            this.#onFrame(body);
            queued = true;
            break;
          case 'closed':
            return;
          default: {
            const never: never = this.#state;
            return never;
          }
        }
        if (this.#ending) return;
      }
      this.#notePartial(performance.now());
      // The requests of every frame this read brought run as one batch (one transaction,
      // one sync): a sender seals 32 messages a frame, and a frame is no unit of work here.
      if (queued) this.#drain();
    } catch (err) {
      if (this.#state === 'up') this.destroy('protocol-violation', (err as Error).message);
      else this.#refuse((err as Error).message);
    }
  }

  #notePartial(now: number): void {
    const buffered = this.#decoder.bufferedBytes;
    this.#partialSince = buffered === 0 ? undefined : (this.#partialSince ?? now);
    if (buffered !== this.#partialBytes) {
      const delta = buffered - this.#partialBytes;
      this.#partialBytes = buffered;
      this.#hooks.partialBytes(this, delta);
    }
  }

  #onHello(body: Buffer): void {
    const hello = parseHello(body);
    const hosts = this.#o.hosts();
    const claimed = hosts.get(hello.initiatorId);
    if (!claimed) return this.#refuse(`unknown lonid "${hello.initiatorId}"`);
    if (claimed.ip !== this.ip) return this.#refuse(`${claimed.id} is listed at ${claimed.ip}, not ${this.ip}`);
    if (!this.#o.ownIds().includes(hello.targetId)) return this.#refuse(`addressed "${hello.targetId}", not one of ours`);
    const created = createServerHello(hello, hello.targetId, this.#o.keys, Buffer.from(claimed.publicKey, 'base64'));
    this.peer = claimed;
    this.served = hello.targetId;
    this.#pending = created;
    this.#state = 'finish';
    this.#sock.write(encodeFrame(created.serverHello));
  }

  #onFinish(body: Buffer): void {
    const est = consumeFinish(body, this.#pending!);
    this.#pending = undefined;
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#session = est.session;
    this.#writer = new SealedWriter(this.#sock, est.session);
    this.#decoder.setMaxBytes(MAX_FRAME_BYTES + MAC_BYTES);
    this.#state = 'up';
    this.#o.log.info(`inbound link from ${this.peer!.id} up (protocol v${est.version})`);
    this.#hooks.authenticated(this);
  }

  #onFrame(body: Buffer): void {
    for (const m of decodeMessages(this.#session!.open(body))) {
      switch (m.kind) {
        case 'q':
          this.#queue.push({ id: m.id, command: m.command, msgid: undefined });
          break;
        case 'c':
          this.#queue.push({ id: m.id, command: m.command, msgid: m.msgid });
          break;
        case 'k':
          this.#writer!.push(encodeMessage({ kind: 'K', id: m.id }));
          break;
        default:
          throw new Error(`unexpected ${m.kind} message on an inbound link`);
      }
    }
  }

  /** Run up to one turn's worth of queued requests; yield if more remain, pause while over a limit. */
  readonly #drain = (): void => {
    this.#cancelDrain();
    if (this.#state !== 'up' || this.#ending) return;
    if (this.#overLimits()) {
      this.#sock.pause();
      this.#drainLater = setTimeout(this.#drain, RESUME_CHECK_MS);
      return;
    }
    const room = Math.min(MAX_COMMANDS_PER_TURN, this.#queue.length);
    const batch = room === this.#queue.length ? this.#queue : this.#queue.slice(0, room);
    this.#queue = batch === this.#queue ? [] : this.#queue.slice(room);
    if (batch.length > 0) {
      const executed: ExecutedBatch = this.#hooks.stopping()
        ? { replies: batch.map(() => transientReply('shutting down')) }
        : this.#o.executor.executeBatch(this.peer!, this.served, batch, this.#room);
      if (executed.durable === undefined) {
        this.#replyAll(batch, executed.replies);
        if (this.#ending) return this.#endAfterTransient();
      } else {
        this.#replyWhenDurable(batch, executed.replies, executed.durable);
        if (this.#ending) return; // the link ends once those replies are out
      }
    }
    if (this.#overLimits()) {
      this.#sock.pause();
      this.#drainLater = setTimeout(this.#drain, RESUME_CHECK_MS);
    } else if (this.#queue.length > 0) {
      this.#sock.pause();
      this.#drainSoon = setImmediate(this.#drain);
    } else if (this.#sock.isPaused()) this.#sock.resume();
  };

  #cancelDrain(): void {
    if (this.#drainSoon) clearImmediate(this.#drainSoon);
    if (this.#drainLater) clearTimeout(this.#drainLater);
    this.#drainSoon = undefined;
    this.#drainLater = undefined;
  }

  #overLimits(): boolean {
    return this.#inProgress >= MAX_IN_PROGRESS_PER_SESSION;
  }

  #replyAll(batch: readonly InboundRequest[], replies: ReadonlyArray<string | Promise<string>>): void {
    for (let i = 0; i < batch.length; i++) this.#reply(batch[i]!, replies[i]!);
  }

  /**
   * The batch wrote: its replies leave once its commit is on disk. Running
   * stops at once if one of its critical messages failed; if the sync
   * fails, nothing of the batch is acknowledged (all transient: the peer
   * resends, and finds what did survive in the applied records).
   */
  #replyWhenDurable(batch: readonly InboundRequest[], replies: ReadonlyArray<string | Promise<string>>, durable: Promise<void>): void {
    if (batch.some((r, i) => r.msgid !== undefined && isTransientString(replies[i]!))) this.#ending = true;
    this.#inProgress++;
    durable.then(
      () => {
        this.#inProgress--;
        if (this.#state !== 'up') return;
        this.#replyAll(batch, replies);
        if (this.#ending) this.#endAfterTransient();
        else if (this.#queue.length > 0) this.#drain();
      },
      (err: Error) => {
        this.#inProgress--;
        if (this.#state !== 'up') return;
        this.#o.log.error(`inbound link from ${this.peer!.id}: store sync failed: ${err.message}`);
        this.#replyAll(batch, batch.map(() => transientReply('store sync failed')));
        this.#endAfterTransient();
      },
    );
  }

  #reply(req: InboundRequest, reply: string | Promise<string>): void {
    if (typeof reply === 'string') {
      this.#writer!.pushReply(req.id, reply);
      if (req.msgid !== undefined && isTransientReply(reply)) this.#ending = true;
      return;
    }
    this.#inProgress++;
    // Handlers' promises answer in the classic vocabulary and do not reject.
    void reply.then((line) => {
      this.#inProgress--;
      if (this.#state !== 'up') return;
      this.#writer!.pushReply(req.id, line);
      if (req.msgid !== undefined && isTransientReply(line) && !this.#ending) {
        this.#ending = true;
        this.#endAfterTransient();
      }
    });
  }

  #endAfterTransient(): void {
    this.#cancelDrain();
    this.#o.log.warn(
      `inbound link from ${this.peer!.id}: a critical message could not be applied here; ` +
        'ending the link so that nothing after it is applied out of order (the peer resends)',
    );
    this.close('transient-failure');
  }

  #refuse(why: string): void {
    if (this.#state === 'closed') return;
    this.#o.refusals.note(this.ip, why);
    this.#sock.destroy();
  }

  #onClose(): void {
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#cancelDrain();
    this.#writer?.discard();
    this.#session?.destroy();
    if (this.#state === 'up') this.#o.log.info(`inbound link from ${this.peer!.id} down`);
    this.#state = 'closed';
    this.#queue = [];
    if (this.#partialBytes !== 0) this.#hooks.partialBytes(this, -this.#partialBytes);
    this.#partialBytes = 0;
    this.#hooks.gone(this);
  }
}

function isTransientString(reply: string | Promise<string>): boolean {
  return typeof reply === 'string' && isTransientReply(reply);
}
