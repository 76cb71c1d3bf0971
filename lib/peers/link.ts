/**
 * PeerLink: this host's one outbound link to one peer, carrying our requests
 * and bringing back the replies (classic lonc's job, for one peer).
 *
 * Flow of a request:
 *   1. send() arms the request's deadline; without an up link the request
 *      waits (and an idle link starts connecting);
 *   2. on `up` waiting requests get ids and go out, pipelined, in order;
 *   3. replies settle them by id, in any order; a lost link fails every
 *      request in flight with LC_ERR_PEER_DOWN, in the order they were sent.
 *
 * Socket, decoder and timer callbacks only call the event methods
 * (#onConnected, #onData, #onSocketClose, #expired*); #transition is the only
 * place that assigns `state`.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HostEntry } from '../config/hosts';
import { LoncapadError, type CloseReason } from '../errors';
import type { Logger } from '../log';
import {
  consumeServerHello,
  createHello,
  decodeMessages,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  HANDSHAKE_TIMEOUT_MS,
  MAC_BYTES,
  MAX_FRAME_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  SealedWriter,
  type InitiationCreated,
  type Message,
  type SealedSession,
  type StaticKeys,
} from '../wire';
import { nextDelayMs, type BackoffPolicy } from './backoff';
import { LINK_EDGES, type LinkState } from './link-state';

export interface LinkTiming {
  /** Give up a TCP connect after this long, ms. */
  readonly connectTimeoutMs: number;
  /** Ping a link that has been silent this long, ms. */
  readonly pingIntervalMs: number;
  /** A ping unanswered this long ends the link, ms. */
  readonly pingTimeoutMs: number;
  /** Close a link with nothing to do for this long, ms. */
  readonly idleTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  /** Consecutive failed connects before the peer is marked dead. */
  readonly deadAfterFailures: number;
}

export interface LinkOptions {
  readonly selfId: string;
  readonly selfIp: string;
  readonly port: number;
  readonly peer: HostEntry;
  readonly keys: StaticKeys;
  readonly timing: LinkTiming;
  /** The spool holds messages for this peer: keep (or get) the link up. */
  readonly hasBacklog: () => boolean;
  readonly log: Logger;
}

export interface SendOptions {
  /** Deadline from now, ms, covering the wait for a link and the reply. */
  readonly timeoutMs: number;
  /** Critical message id: the peer applies the command at most once. */
  readonly msgid?: string | undefined;
}

interface Request {
  readonly command: string;
  readonly msgid: string | undefined;
  readonly resolve: (reply: string) => void;
  readonly reject: (err: LoncapadError) => void;
  timer: NodeJS.Timeout | undefined;
  id: number;
  sentAt: number;
  done: boolean;
}

/** A reassembled reply may not grow past this (a frame's worth). */
const MAX_REPLY_CHARS = MAX_FRAME_BYTES;

/** Log the first connect failure and every Nth; the rest go to debug. */
const REPORT_EVERY_NTH_FAILURE = 20;

export interface LinkStatus {
  readonly peer: string;
  readonly state: LinkState;
  readonly since: number;
  readonly rttMs: number | undefined;
  readonly inFlight: number;
  readonly waiting: number;
  readonly retries: number;
  readonly lastError: string | undefined;
}

export declare interface PeerLink {
  on(event: 'state', listener: (to: LinkState, from: LinkState, reason: string) => void): this;
  on(event: 'up', listener: () => void): this;
}

export class PeerLink extends EventEmitter {
  state: LinkState = 'idle';
  since = Date.now();
  lastError: string | undefined;
  rttMs: number | undefined;
  /** Failed connects since the last completed handshake. */
  failures = 0;

  readonly peer: HostEntry;
  readonly #o: LinkOptions;
  #socket: Socket | undefined;
  #decoder: FrameDecoder | undefined;
  #init: InitiationCreated | undefined;
  #session: SealedSession | undefined;
  #writer: SealedWriter | undefined;
  #closeReason: CloseReason | undefined;
  #closed = false;

  readonly #pending = new Map<number, Request>();
  /** Fragments of large replies received so far, by request id. */
  readonly #partial = new Map<number, { parts: string[]; chars: number }>();
  #waiting: Request[] = [];
  #nextId = 1;

  #stateTimer: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #lastRecvAt = 0;
  #lastUseAt = 0;
  #pingSentAt: number | undefined;
  #pingSeq = 0;

  constructor(options: LinkOptions) {
    super();
    this.#o = options;
    this.peer = options.peer;
  }

  // ---- public API ----------------------------------------------------------

  send(command: string, opts: SendOptions): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (this.#closed || this.state === 'dead') {
        reject(new LoncapadError('LC_ERR_PEER_DOWN', `${this.peer.id} is ${this.#closed ? 'removed' : 'dead'}`));
        return;
      }
      const req: Request = { command, msgid: opts.msgid, resolve, reject, timer: undefined, id: 0, sentAt: 0, done: false };
      req.timer = setTimeout(() => this.#expiredRequest(req), opts.timeoutMs);
      this.#lastUseAt = performance.now();
      // A link closing for idleness takes no new requests; they wait for the next one.
      if (this.state === 'up' && this.#closeReason === undefined) this.#write(req);
      else {
        this.#waiting.push(req);
        if (this.state === 'idle') this.#connect('demand');
      }
    });
  }

  /** Open the link if it is idle (the spool has something for this peer). */
  demand(): void {
    if (!this.#closed && this.state === 'idle') this.#connect('spooled messages');
  }

  /** Retry a dead or backing-off peer now, with a fresh retry count. */
  retryNow(reason: string): boolean {
    if (this.#closed || (this.state !== 'dead' && this.state !== 'backoff')) return false;
    this.failures = 0;
    this.#connect(reason);
    return true;
  }

  /** End the link for good (host removed, shutdown). */
  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new LoncapadError('LC_ERR_PEER_DOWN', `link to ${this.peer.id} closed (${reason})`), true);
    if (this.#socket) this.#drop(reason);
    if (this.state !== 'idle') this.#transition('idle', reason);
    this.#clearTimers();
  }

  status(): LinkStatus {
    return {
      peer: this.peer.id,
      state: this.state,
      since: this.since,
      rttMs: this.rttMs === undefined ? undefined : Math.round(this.rttMs * 1000) / 1000,
      inFlight: this.#pending.size,
      waiting: this.#waiting.length,
      retries: this.failures,
      lastError: this.lastError,
    };
  }

  // ---- state machine -------------------------------------------------------

  #transition(to: LinkState, reason: string): void {
    const from = this.state;
    if (!LINK_EDGES[from].includes(to)) throw new Error(`link ${this.peer.id}: illegal transition ${from} → ${to}`);
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
    this.#stateTimer = undefined;
    this.state = to;
    this.since = Date.now();
    const level = to === 'dead' ? 'warn' : 'info';
    if (to !== 'backoff' || this.failures <= 1 || this.failures % REPORT_EVERY_NTH_FAILURE === 0) {
      this.#o.log[level](`link ${this.peer.id}: ${from} → ${to} (${reason})`);
    } else {
      this.#o.log.debug(`link ${this.peer.id}: ${from} → ${to} (${reason})`);
    }
    this.emit('state', to, from, reason);
  }

  #connect(reason: string): void {
    this.#transition('connecting', reason);
    const sock = connect({ host: this.peer.ip, port: this.#o.port, localAddress: this.#o.selfIp });
    this.#socket = sock;
    this.#closeReason = undefined;
    sock.setNoDelay(true);
    this.#stateTimer = setTimeout(() => this.#expiredConnect(sock), this.#o.timing.connectTimeoutMs);
    sock.on('connect', () => this.#onConnected(sock));
    sock.on('data', (chunk: Buffer) => this.#onData(sock, chunk));
    sock.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    sock.on('close', () => this.#onSocketClose(sock));
  }

  #onConnected(sock: Socket): void {
    if (sock !== this.#socket) return;
    this.#transition('handshaking', 'tcp connected');
    this.#stateTimer = setTimeout(() => this.#expiredHandshake(sock), HANDSHAKE_TIMEOUT_MS);
    this.#decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    this.#init = createHello(this.#o.selfId, this.peer.id);
    sock.write(encodeFrame(this.#init.hello));
  }

  #onData(sock: Socket, chunk: Buffer): void {
    if (sock !== this.#socket) return;
    this.#lastRecvAt = performance.now();
    try {
      for (const body of this.#decoder!.push(chunk)) {
        if (this.state === 'handshaking') this.#onServerHello(sock, body);
        else this.#onMessages(decodeMessages(this.#session!.open(body)));
      }
    } catch (err) {
      this.lastError = (err as Error).message;
      const reason = this.state === 'handshaking' ? 'handshake-failed' : 'protocol-violation';
      this.#o.log.warn(`link ${this.peer.id}: ${reason}: ${(err as Error).message}`);
      this.#drop(reason);
    }
  }

  #onServerHello(sock: Socket, body: Buffer): void {
    const peerKey = Buffer.from(this.peer.publicKey, 'base64');
    const est = consumeServerHello(body, this.#init!, this.#o.keys, peerKey);
    this.#init = undefined;
    this.#session = est.session;
    this.#decoder!.setMaxBytes(MAX_FRAME_BYTES + MAC_BYTES);
    this.#writer = new SealedWriter(sock, est.session);
    sock.write(encodeFrame(est.finish));
    this.failures = 0;
    this.lastError = undefined;
    this.#transition('up', `handshake ok, protocol v${est.version}`);
    this.#timersLinkUp();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const req of waiting) if (!req.done) this.#write(req);
    this.emit('up');
  }

  #onMessages(messages: Message[]): void {
    const now = performance.now();
    for (const m of messages) {
      if (m.kind === 'p') {
        const got = this.#partial.get(m.id) ?? { parts: [], chars: 0 };
        got.parts.push(m.reply);
        got.chars += m.reply.length;
        if (got.chars > MAX_REPLY_CHARS) throw new LoncapadError('LC_ERR_FRAME_TOO_LARGE', `reply ${m.id} exceeds ${MAX_REPLY_CHARS} characters`);
        this.#partial.set(m.id, got);
      } else if (m.kind === 'r') {
        const got = this.#partial.get(m.id);
        if (got) this.#partial.delete(m.id);
        const req = this.#pending.get(m.id);
        if (!req) continue; // its deadline passed; the reply is late
        this.#pending.delete(m.id);
        const reply = got ? got.parts.join('') + m.reply : m.reply;
        this.rttMs = this.rttMs === undefined ? now - req.sentAt : this.rttMs * 0.9 + (now - req.sentAt) * 0.1;
        this.#settle(req);
        req.resolve(reply);
      } else if (m.kind === 'K') {
        if (this.#pingSentAt !== undefined) this.rttMs = now - this.#pingSentAt;
        this.#pingSentAt = undefined;
      } else {
        throw new LoncapadError('LC_ERR_BAD_FRAME', `unexpected ${m.kind} message on an outbound link`);
      }
    }
  }

  #onSocketClose(sock: Socket): void {
    if (sock !== this.#socket) return;
    this.#socket = undefined;
    this.#writer?.discard();
    this.#writer = undefined;
    this.#session?.destroy();
    this.#session = undefined;
    this.#decoder = undefined;
    this.#init = undefined;
    this.#partial.clear();
    this.#clearTick();
    // Requests in flight may or may not have run: fail them (critical ones are
    // spooled by their owner and deduplicated by msgid on replay).
    const lost = new LoncapadError('LC_ERR_PEER_DOWN', `lost link to ${this.peer.id}`);
    for (const req of [...this.#pending.values()]) this.#failRequest(req, lost);
    this.#pending.clear();
    if (this.#closed) return;
    const wasUp = this.state === 'up';
    const reason = this.#closeReason ?? (wasUp ? 'peer-closed' : 'read-error');
    if (wasUp) {
      if (this.#closeReason === 'idle-timeout') {
        this.#transition('idle', reason);
        // Requests that arrived while the link was closing open a new one.
        if (this.#hasDemand()) this.#connect('demand');
      } else if (this.#hasDemand()) this.#enterBackoff(reason);
      else this.#transition('idle', reason);
      return;
    }
    this.failures++;
    if (this.lastError === undefined) this.lastError = reason;
    if (this.failures >= this.#o.timing.deadAfterFailures) this.#enterDead(`${this.failures} failed attempts: ${this.lastError}`);
    else this.#enterBackoff(`attempt ${this.failures} failed: ${this.lastError}`);
  }

  #enterBackoff(reason: string): void {
    this.#transition('backoff', reason);
    // Critical requests do not wait out a backoff: their owner spools them
    // now, in order, before any later critical message can be spooled.
    const waiting = this.#waiting;
    this.#waiting = waiting.filter((r) => r.msgid === undefined);
    const err = new LoncapadError('LC_ERR_PEER_DOWN', `${this.peer.id} unreachable: ${reason}`);
    for (const req of waiting) if (req.msgid !== undefined) this.#failRequest(req, err);
    const delay = nextDelayMs(this.failures, this.#o.timing.backoff);
    this.#stateTimer = setTimeout(() => this.#expiredBackoff(), delay);
  }

  #enterDead(reason: string): void {
    this.#transition('dead', reason);
    this.#failAll(new LoncapadError('LC_ERR_PEER_DOWN', `${this.peer.id} is dead`), false);
    // Never given up for good: retry at the backoff ceiling.
    this.#stateTimer = setTimeout(() => this.#expiredDead(), this.#o.timing.backoff.ceilingMs);
  }

  // ---- timers: one function per expiry --------------------------------------

  #expiredConnect(sock: Socket): void {
    if (sock !== this.#socket) return;
    this.lastError = `connect timed out after ${this.#o.timing.connectTimeoutMs} ms`;
    sock.destroy();
  }

  #expiredHandshake(sock: Socket): void {
    if (sock !== this.#socket) return;
    this.lastError = `handshake timed out after ${HANDSHAKE_TIMEOUT_MS} ms`;
    this.#drop('handshake-failed');
  }

  #expiredBackoff(): void {
    this.#stateTimer = undefined;
    if (this.#hasDemand()) this.#connect('backoff over');
    else this.#transition('idle', 'nothing to send');
  }

  #expiredDead(): void {
    this.#stateTimer = undefined;
    this.#connect('periodic retry of dead peer');
  }

  #expiredRequest(req: Request): void {
    req.timer = undefined;
    if (req.done) return;
    if (req.id !== 0) this.#pending.delete(req.id);
    this.#failRequest(req, new LoncapadError('LC_ERR_TIMEOUT', `no reply from ${this.peer.id} in time`));
  }

  /** Keep-alive and idle checks while up; call when the link comes up. */
  #timersLinkUp(): void {
    const t = this.#o.timing;
    const now = performance.now();
    this.#lastRecvAt = now;
    this.#lastUseAt = now;
    this.#pingSentAt = undefined;
    const every = Math.max(5, Math.min(t.pingIntervalMs, t.idleTimeoutMs) / 4);
    this.#tick = setInterval(() => this.#expiredTick(), every);
  }

  #expiredTick(): void {
    const t = this.#o.timing;
    const now = performance.now();
    const silent = now - this.#lastRecvAt;
    if (silent >= t.pingIntervalMs + t.pingTimeoutMs) {
      this.lastError = `no answer to keep-alive in ${t.pingTimeoutMs} ms`;
      this.#drop('ping-timeout');
      return;
    }
    if (silent >= t.pingIntervalMs && this.#pingSentAt === undefined) {
      this.#pingSentAt = now;
      this.#writer!.push(encodeMessage({ kind: 'k', id: ++this.#pingSeq }));
    }
    if (now - this.#lastUseAt >= t.idleTimeoutMs && !this.#hasDemand()) {
      this.#closeReason = 'idle-timeout';
      this.#socket?.end();
      this.#clearTick();
    }
  }

  // ---- helpers ---------------------------------------------------------------

  #write(req: Request): void {
    req.id = this.#nextId++;
    req.sentAt = performance.now();
    this.#pending.set(req.id, req);
    this.#writer!.push(
      encodeMessage(
        req.msgid === undefined
          ? { kind: 'q', id: req.id, command: req.command }
          : { kind: 'c', id: req.id, msgid: req.msgid, command: req.command },
      ),
    );
  }

  #hasDemand(): boolean {
    return this.#pending.size > 0 || this.#waiting.some((r) => !r.done) || this.#o.hasBacklog();
  }

  #settle(req: Request): void {
    req.done = true;
    if (req.timer) clearTimeout(req.timer);
    req.timer = undefined;
  }

  #failRequest(req: Request, err: LoncapadError): void {
    if (req.done) return;
    this.#settle(req);
    req.reject(err);
  }

  /** Fail waiting requests (and, when closing for good, those in flight). */
  #failAll(err: LoncapadError, inFlightToo: boolean): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    if (inFlightToo) {
      for (const req of [...this.#pending.values()]) this.#failRequest(req, err);
      this.#pending.clear();
    }
    for (const req of waiting) this.#failRequest(req, err);
  }

  #drop(reason: CloseReason): void {
    this.#closeReason = reason;
    this.#socket?.destroy();
  }

  #clearTick(): void {
    if (this.#tick) clearInterval(this.#tick);
    this.#tick = undefined;
  }

  #clearTimers(): void {
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
    this.#stateTimer = undefined;
    this.#clearTick();
  }
}
