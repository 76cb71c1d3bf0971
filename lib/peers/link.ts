/**
 * PeerLink: this host's one outbound link to one peer, carrying our requests
 * and bringing back the replies (classic lonc's job, for one peer).
 *
 * Flow of a request:
 *   1. send() arms the request's deadline (one timer for all: requests.ts);
 *      without an up link the request waits, and an idle link starts
 *      connecting — so does a backing-off or dead one whose last attempt is
 *      older than the backoff floor (a probe: the request waits for it
 *      within its deadline);
 *   2. on `up` waiting requests get ids and go out, pipelined, in order;
 *   3. replies settle them by id, in any order; a lost link fails every
 *      request in flight with LC_ERR_PEER_DOWN, in the order they were sent.
 *
 * Finding a returning peer fast: a probe on demand (above); `retryNow`
 * (SIGUSR1, `reset_retries`) keeps retrying for RETRY_WINDOW_MS instead of
 * giving up after a few quick failures; `peerIsBack` (the peer connected to
 * us, e.g. its start-up announcement) retries at once or checks a link that
 * looks up with a keep-alive; `announce` opens the link once, so that the
 * peer learns we are back, and closes it again when nobody needs it.
 *
 * Socket, decoder and timer callbacks only call the event methods
 * (#onConnected, #onData, #onSocketClose, #expired*); #transition is the only
 * place that assigns `state`. Liveness rules are in liveness.ts.
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
  requestLine,
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
import type { HandshakePacer } from './handshake-pacer';
import { LINK_EDGES, type LinkState } from './link-state';
import { checkOutbound, type LivenessTiming } from './liveness';
import { type Clocked, type LivenessClock } from './liveness-clock';
import { RequestBook, type ReplyHandler, type Request } from './requests';

export interface LinkTiming extends LivenessTiming {
  /** Give up a TCP connect after this long, ms. */
  readonly connectTimeoutMs: number;
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
  /** Shared by every link and the listener: dialing slots and handshake crypto per loop turn. */
  readonly pacer: HandshakePacer;
  /** Shared by every link: checks the liveness of the links that are up, a slice at a time. */
  readonly clock: LivenessClock;
  /** The spool holds messages for this peer: keep (or get) the link up. */
  readonly hasBacklog: () => boolean;
  readonly log: Logger;
}

export interface SendOptions {
  /** Deadline from now, ms, covering the wait for a link and the reply. */
  readonly timeoutMs: number;
  /** Critical message id: the peer applies the command at most once. */
  readonly msgid?: string | undefined;
  /** True once nobody waits for the reply: a large one is then not collected. */
  readonly abandoned?: (() => boolean) | undefined;
}

/** Log the first connect failure and every Nth; the rest go to debug. */
const REPORT_EVERY_NTH_FAILURE = 20;
/** After SIGUSR1 or `reset_retries`, keep retrying this long before a peer may be marked dead again, ms. */
export const RETRY_WINDOW_MS = 10_000;
/** Longest pause between attempts inside that window, ms. */
export const RETRY_WINDOW_MAX_DELAY_MS = 1_000;

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
  readonly #requests = new RequestBook(() => new LoncapadError('LC_ERR_TIMEOUT', `no reply from ${this.peer.id} in time`));
  #socket: Socket | undefined;
  #decoder: FrameDecoder | undefined;
  #init: InitiationCreated | undefined;
  #session: SealedSession | undefined;
  #writer: SealedWriter | undefined;
  #closeReason: CloseReason | undefined;
  #closed = false;

  #stateTimer: NodeJS.Timeout | undefined;
  /** Our place on the shared liveness clock while up (its `tick` is #expiredTick). */
  readonly #clocked: Clocked = { tick: (now) => this.#expiredTick(now) };
  #lastRecvAt = 0;
  #lastUseAt = 0;
  #partialSince: number | undefined;
  #closingSince: number | undefined;
  #pingSentAt: number | undefined;
  #pingSeq = 0;
  /** When the last connect attempt began (performance.now()); probes wait at least the backoff floor after it. */
  #lastAttemptAt = -Infinity;
  /** Retry eagerly (never mark dead) until then (performance.now()). */
  #eagerUntil = -Infinity;
  /** The link was opened only to announce us: close it once up unless somebody needs it. */
  #announcing = false;
  /** The peer has connected to us since we started: it knows we are up, no need to announce. */
  #heardFrom = false;
  /** Gives back this attempt's dialing slot (HandshakePacer); undefined between attempts. */
  #dialDone: (() => void) | undefined;
  /** This attempt reached the peer (TCP), and the peer answered the Hello (or we gave up waiting). */
  #reached = false;
  #answered = false;
  #handshakeTimedOut = false;
  /** A handshake crypto step waits for its turn (HandshakePacer); frames after it wait with it. */
  #stepPending = false;

  constructor(options: LinkOptions) {
    super();
    this.#o = options;
    this.peer = options.peer;
  }

  // ---- public API ----------------------------------------------------------

  send(command: string, opts: SendOptions): Promise<string> {
    return new Promise<string>((resolve, reject) => this.submit(command, opts, { resolve, reject }));
  }

  /**
   * `send` without a promise: `to` hears the reply or the failure. For an
   * owner with thousands in flight (the replayer), one handler object per
   * request instead of a promise, its resolving functions and the
   * callbacks chained to it (a tenth of the replayer's garbage).
   */
  submit(command: string, opts: SendOptions, to: ReplyHandler): void {
    if (this.#closed) {
      to.reject(new LoncapadError('LC_ERR_PEER_DOWN', `${this.peer.id} is removed`));
      return;
    }
    const req: Request = { command, msgid: opts.msgid, to, abandoned: opts.abandoned, deadline: 0, id: 0, sentAt: 0, done: false };
    this.#lastUseAt = performance.now();
    if (this.state === 'up' && this.#closeReason === undefined) {
      this.#requests.arm(req, opts.timeoutMs);
      this.#write(req);
      return;
    }
    if ((this.state === 'backoff' || this.state === 'dead') && !this.#probe(`probe: a request for ${this.peer.id}`)) {
      // Too soon after the last attempt. A critical message does not wait
      // out a backoff (its owner spools it now, in order); a dead peer
      // fails fast; other requests wait for the backoff timer.
      if (this.state === 'dead' || req.msgid !== undefined) {
        to.reject(new LoncapadError('LC_ERR_PEER_DOWN', `${this.peer.id} is ${this.state === 'dead' ? 'dead' : 'unreachable'}`));
        return;
      }
    }
    this.#requests.arm(req, opts.timeoutMs);
    this.#requests.wait(req);
    if (this.state === 'idle') this.#connect('demand');
  }

  /** Open the link if it is idle (the spool has something for this peer); probe if it may. */
  demand(): void {
    if (this.#closed) return;
    if (this.state === 'idle') this.#connect('spooled messages');
    else if (this.state === 'backoff' || this.state === 'dead') this.#probe('probe: spooled messages');
  }

  /** Retry a dead or backing-off peer now, and keep retrying for RETRY_WINDOW_MS. */
  retryNow(reason: string): boolean {
    if (this.#closed || (this.state !== 'dead' && this.state !== 'backoff')) return false;
    this.failures = 0;
    this.#eagerUntil = performance.now() + RETRY_WINDOW_MS;
    this.#connect(reason);
    return true;
  }

  /**
   * The peer connected to us: it is alive. Retry a link that is down; check
   * one that looks up (it may be a dead TCP connection to the peer's former
   * run) with a keep-alive now. Returns true when a retry started.
   */
  peerIsBack(): boolean {
    this.#heardFrom = true;
    if (this.retryNow('the peer connected to us')) return true;
    if (this.state === 'up' && this.#closeReason === undefined && this.#pingSentAt === undefined) this.#sendPing(performance.now());
    return false;
  }

  /** Tell the peer we are (back) up: open the link once if nothing else does (and the peer has not connected to us already). */
  announce(): void {
    if (this.#closed || this.state !== 'idle' || this.#heardFrom) return;
    this.#announcing = true;
    this.#connect('announcing this host');
  }

  /** End the link for good (host removed, shutdown). */
  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = new LoncapadError('LC_ERR_PEER_DOWN', `link to ${this.peer.id} closed (${reason})`);
    this.#requests.failInFlight(() => err);
    this.#requests.failWaiting(err);
    this.#requests.close();
    if (this.#socket) this.#drop(reason);
    this.#endDial();
    if (this.state !== 'idle') this.#transition('idle', reason);
    this.#clearTimers();
  }

  status(): LinkStatus {
    return {
      peer: this.peer.id,
      state: this.state,
      since: this.since,
      rttMs: this.rttMs === undefined ? undefined : Math.round(this.rttMs * 1000) / 1000,
      inFlight: this.#requests.inFlight,
      waiting: this.#requests.waiting,
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
    if (to === 'connecting' || to === 'handshaking') {
      // Steps on the way up: one line per link per attempt at info was most of a busy log.
      if (this.#o.log.enabled('debug')) this.#o.log.debug(`link ${this.peer.id}: ${from} → ${to} (${reason})`);
    } else if (to !== 'backoff' || this.failures <= 1 || this.failures % REPORT_EVERY_NTH_FAILURE === 0) {
      this.#o.log[level](`link ${this.peer.id}: ${from} → ${to} (${reason})`);
    } else {
      this.#o.log.debug(`link ${this.peer.id}: ${from} → ${to} (${reason})`);
    }
    this.emit('state', to, from, reason);
  }

  /** A connect attempt now, if the link is down and the last attempt is older than the backoff floor. */
  #probe(reason: string): boolean {
    if (this.#closed || (this.state !== 'backoff' && this.state !== 'dead')) return false;
    if (performance.now() - this.#lastAttemptAt < this.#o.timing.backoff.floorMs) return false;
    this.#connect(reason);
    return true;
  }

  /** An attempt: `connecting` now; the TCP connect when a dialing slot is free (HandshakePacer). */
  #connect(reason: string): void {
    this.#transition('connecting', reason);
    this.#lastAttemptAt = performance.now();
    this.#reached = false;
    this.#answered = false;
    this.#handshakeTimedOut = false;
    this.#dialDone = this.#o.pacer.dial(() => this.#dial());
  }

  #endDial(): void {
    this.#dialDone?.();
    this.#dialDone = undefined;
  }

  #dial(): void {
    if (this.#closed || this.state !== 'connecting') return;
    const sock = connect({ host: this.peer.ip, port: this.#o.port, localAddress: this.#o.selfIp });
    this.#socket = sock;
    this.#closeReason = undefined;
    this.#closingSince = undefined;
    this.#partialSince = undefined;
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
    this.#reached = true;
    this.#transition('handshaking', 'tcp connected');
    this.#stateTimer = setTimeout(() => this.#expiredHandshake(sock), HANDSHAKE_TIMEOUT_MS);
    this.#decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    this.#stepPending = true;
    this.#o.pacer.step(() => {
      this.#stepPending = false;
      if (sock !== this.#socket) return;
      this.#init = createHello(this.#o.selfId, this.peer.id);
      sock.write(encodeFrame(this.#init.hello));
      this.#drainFrames(sock);
    });
  }

  #onData(sock: Socket, chunk: Buffer): void {
    if (sock !== this.#socket) return;
    this.#lastRecvAt = performance.now();
    try {
      this.#decoder!.push(chunk);
    } catch (err) {
      return this.#protocolError(err);
    }
    if (!this.#stepPending) this.#drainFrames(sock);
  }

  /**
   * One frame at a time: the ServerHello raises the limit for what follows
   * it, and its crypto waits for its turn (HandshakePacer) with every frame
   * behind it.
   */
  #drainFrames(sock: Socket): void {
    const decoder = this.#decoder;
    if (!decoder) return;
    try {
      for (let body = decoder.next(); body !== undefined; body = this.#decoder?.next()) {
        if (this.state === 'handshaking') {
          this.#answered = true;
          this.#stepPending = true;
          const serverHello = body;
          this.#o.pacer.step(() => {
            this.#stepPending = false;
            if (sock !== this.#socket) return;
            try {
              this.#onServerHello(sock, serverHello);
            } catch (err) {
              return this.#protocolError(err);
            }
            this.#drainFrames(sock);
          });
          return;
        }
        this.#onMessages(decodeMessages(this.#session!.open(body)));
        if (sock !== this.#socket) return;
      }
      this.#partialSince = decoder.bufferedBytes === 0 ? undefined : (this.#partialSince ?? performance.now());
    } catch (err) {
      this.#protocolError(err);
    }
  }

  #protocolError(err: unknown): void {
    this.lastError = (err as Error).message;
    const reason = this.state === 'handshaking' ? 'handshake-failed' : 'protocol-violation';
    this.#o.log.warn(`link ${this.peer.id}: ${reason}: ${(err as Error).message}`);
    this.#drop(reason);
  }

  #onServerHello(sock: Socket, body: Buffer): void {
    const peerKey = Buffer.from(this.peer.publicKey, 'base64');
    const est = consumeServerHello(body, this.#init!, this.#o.keys, peerKey);
    this.#init = undefined;
    this.#session = est.session;
    this.#decoder!.setMaxBytes(MAX_FRAME_BYTES + MAC_BYTES);
    this.#writer = new SealedWriter(sock, est.session);
    sock.write(encodeFrame(est.finish));
    this.#endDial();
    this.failures = 0;
    this.lastError = undefined;
    this.#eagerUntil = -Infinity;
    this.#transition('up', `handshake ok, protocol v${est.version}`);
    this.#timersLinkUp();
    for (const req of this.#requests.takeWaiting()) this.#write(req);
    this.emit('up');
    if (this.#announcing) {
      this.#announcing = false;
      if (!this.#hasDemand()) this.#closeGracefully('idle-timeout');
    }
  }

  #onMessages(messages: Message[]): void {
    const now = performance.now();
    for (const m of messages) {
      if (m.kind === 'p') {
        this.#requests.fragment(m.id, m.reply);
      } else if (m.kind === 'r') {
        const done = this.#requests.answered(m.id, m.reply);
        if (!done) continue;
        const rtt = now - done.req.sentAt;
        this.rttMs = this.rttMs === undefined ? rtt : this.rttMs * 0.9 + rtt * 0.1;
        done.req.to.resolve(done.reply);
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
    this.#partialSince = undefined;
    this.#closingSince = undefined;
    this.#stepPending = false;
    this.#endDial();
    this.#clearTick();
    // Requests in flight may or may not have run: fail them (critical ones are
    // spooled by their owner and deduplicated by msgid on replay).
    this.#requests.failInFlight(() => new LoncapadError('LC_ERR_PEER_DOWN', `lost link to ${this.peer.id}`));
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
    this.#announcing = false;
    this.failures++;
    if (this.lastError === undefined) this.lastError = reason;
    const eager = performance.now() < this.#eagerUntil;
    // A peer that accepted the connection and closed it before answering is
    // there, only busy (its admission refuses handshakes past its limits):
    // back off, but do not mark it dead. One that never answered in time, or
    // cannot be reached at all, is.
    const busy = this.#reached && !this.#answered && !this.#handshakeTimedOut;
    if (!eager && !busy && this.failures >= this.#o.timing.deadAfterFailures) this.#enterDead(`${this.failures} failed attempts: ${this.lastError}`);
    else this.#enterBackoff(`attempt ${this.failures} failed: ${busy ? 'the peer closed the connection before answering (busy?)' : this.lastError}`, eager);
  }

  #enterBackoff(reason: string, eager = false): void {
    this.#transition('backoff', reason);
    // Critical requests do not wait out a backoff: their owner spools them
    // now, in order, before any later critical message can be spooled.
    this.#requests.failWaiting(new LoncapadError('LC_ERR_PEER_DOWN', `${this.peer.id} unreachable: ${reason}`), (r) => r.msgid !== undefined);
    const delay = nextDelayMs(this.failures, this.#o.timing.backoff);
    this.#stateTimer = setTimeout(() => this.#expiredBackoff(), eager ? Math.min(delay, RETRY_WINDOW_MAX_DELAY_MS) : delay);
  }

  #enterDead(reason: string): void {
    this.#transition('dead', reason);
    this.#requests.failWaiting(new LoncapadError('LC_ERR_PEER_DOWN', `${this.peer.id} is dead`));
    // Never given up for good: retry at the backoff ceiling (and on demand, see #probe).
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
    this.#handshakeTimedOut = true;
    this.lastError = `handshake timed out after ${HANDSHAKE_TIMEOUT_MS} ms`;
    this.#drop('handshake-failed');
  }

  #expiredBackoff(): void {
    this.#stateTimer = undefined;
    if (this.#hasDemand() || performance.now() < this.#eagerUntil) this.#connect('backoff over');
    else this.#transition('idle', 'nothing to send');
  }

  #expiredDead(): void {
    this.#stateTimer = undefined;
    this.#connect('periodic retry of dead peer');
  }

  /** Keep-alive, idle and stalled-frame checks while up; call when the link comes up. */
  #timersLinkUp(): void {
    const now = performance.now();
    this.#lastRecvAt = now;
    this.#lastUseAt = now;
    this.#pingSentAt = undefined;
    this.#o.clock.add(this.#clocked);
  }

  #expiredTick(now: number): void {
    const t = this.#o.timing;
    const action = checkOutbound(t, {
      now,
      lastRecvAt: this.#lastRecvAt,
      partialSince: this.#partialSince,
      closingSince: this.#closingSince,
      pingOutstanding: this.#pingSentAt !== undefined,
      lastUseAt: this.#lastUseAt,
      busy: this.#hasDemand(),
    });
    switch (action) {
      case 'none':
        return;
      case 'ping':
        this.#sendPing(now);
        return;
      case 'drop-silent':
        this.lastError = `no answer to keep-alive in ${t.pingTimeoutMs} ms`;
        this.#o.log.warn(`link ${this.peer.id}: ${this.lastError}; dropping it`);
        this.#drop('ping-timeout');
        return;
      case 'drop-stalled-frame':
        this.lastError = `a frame begun ${Math.round(now - this.#partialSince!)} ms ago never finished`;
        this.#o.log.warn(`link ${this.peer.id}: ${this.lastError}; dropping it`);
        this.#drop('frame-timeout');
        return;
      case 'close-idle':
        this.#closeGracefully('idle-timeout');
        return;
      case 'destroy-closing':
        this.#o.log.info(`link ${this.peer.id}: the peer did not finish closing in ${t.pingTimeoutMs} ms; dropping it`);
        this.#socket?.destroy();
        return;
      default: {
        const never: never = action;
        return never;
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------

  #write(req: Request): void {
    const id = this.#requests.sent(req, performance.now());
    this.#writer!.push(requestLine(id, req.command, req.msgid));
  }

  #sendPing(now: number): void {
    this.#pingSentAt = now;
    this.#writer?.push(encodeMessage({ kind: 'k', id: ++this.#pingSeq }));
  }

  #hasDemand(): boolean {
    return this.#requests.busy || this.#o.hasBacklog();
  }

  /** Close after what is written; the liveness check destroys it if the peer never finishes. New requests wait for the next link. */
  #closeGracefully(reason: CloseReason): void {
    this.#closeReason = reason;
    this.#closingSince = performance.now();
    this.#socket?.end();
  }

  #drop(reason: CloseReason): void {
    this.#closeReason = reason;
    this.#socket?.destroy();
  }

  #clearTick(): void {
    this.#o.clock.delete(this.#clocked);
  }

  #clearTimers(): void {
    if (this.#stateTimer) clearTimeout(this.#stateTimer);
    this.#stateTimer = undefined;
    this.#clearTick();
  }
}

