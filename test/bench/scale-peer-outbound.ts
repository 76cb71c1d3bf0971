/**
 * One scale-bench peer's outbound link to the daemon under test
 * (scale-peers.ts), behaving as the daemon's own PeerLink does for a peer
 * it holds a backlog for:
 *
 *   idle ─connect─▶ connecting ─tcp─▶ handshaking ─ServerHello ok─▶ up
 *     up ─lost─▶ backoff (nextDelayMs from the floor) ─▶ connecting …
 *     a failed attempt ─▶ backoff, or dead after deadAfterFailures
 *     (retried at the backoff ceiling)
 *     the daemon completed a handshake with us (peerIsBack) ─▶ connecting
 *     now, and for RETRY_WINDOW_MS never dead, pauses at most 1 s
 *
 * While up it pings after `pingIntervalMs` of silence and drops the link
 * when nothing comes back within `pingTimeoutMs` more (lib/peers/liveness.ts).
 */
import { connect, type Socket } from 'node:net';
import { nextDelayMs } from '../../lib/peers';
import { RETRY_WINDOW_MAX_DELAY_MS, RETRY_WINDOW_MS } from '../../lib/peers/link';
import {
  consumeServerHello,
  createHello,
  decodeMessages,
  encodeFrame,
  FrameDecoder,
  HANDSHAKE_TIMEOUT_MS,
  MAC_BYTES,
  MAX_FRAME_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  SealedWriter,
  type InitiationCreated,
  type SealedSession,
  type StaticKeys,
} from '../../lib/wire';
import type { HelperConfig, PeerSpec, PeerStats } from './scale-peer-stats';

export type OutboundState = 'idle' | 'connecting' | 'handshaking' | 'up' | 'backoff' | 'dead';

/** One peer's link to the daemon. */
export class PeerOutbound {
  state: OutboundState = 'idle';
  #sock: Socket | undefined;
  #decoder: FrameDecoder | undefined;
  #init: InitiationCreated | undefined;
  #writer: SealedWriter | undefined;
  #session: SealedSession | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #eagerUntil = -Infinity;
  #lastRecvAt = 0;
  #pingSentAt: number | undefined;
  #pingSeq = 0;
  #cause = '';
  readonly #daemonKey: Uint8Array;

  constructor(
    readonly spec: PeerSpec,
    readonly keys: StaticKeys,
    readonly cfg: HelperConfig,
    readonly stats: PeerStats,
  ) {
    this.#daemonKey = Buffer.from(cfg.daemon.publicKey, 'base64');
  }

  connect(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.state = 'connecting';
    this.#cause = '';
    const sock = connect({ host: this.cfg.daemon.ip, port: this.cfg.port, localAddress: this.spec.ip });
    this.#sock = sock;
    sock.setNoDelay(true);
    this.#timer = setTimeout(() => this.#expired(sock, 'connecting', 'connect timeout'), this.cfg.connectTimeoutMs);
    sock.on('connect', () => {
      if (sock !== this.#sock) return;
      clearTimeout(this.#timer);
      this.state = 'handshaking';
      this.#timer = setTimeout(() => this.#expired(sock, 'handshaking', 'handshake timeout'), HANDSHAKE_TIMEOUT_MS);
      this.#decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
      this.#init = createHello(this.spec.id, this.cfg.daemon.id);
      sock.write(encodeFrame(this.#init.hello));
    });
    sock.on('data', (chunk: Buffer) => this.#onData(sock, chunk));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.#cause) this.#cause = err.code ?? err.message;
    });
    sock.on('close', () => this.#onClose(sock));
  }

  /**
   * A connect or handshake deadline passed. Decided after this turn's I/O
   * (setImmediate runs after the poll phase): a helper starved of CPU by
   * the daemon's own crypto wakes up with its timers first, and would
   * otherwise time out a reply that is waiting, unread, in its socket.
   * That would be an artefact of hosting 1,000 peers on two cores, not
   * the daemon's doing.
   */
  #expired(sock: Socket, during: OutboundState, cause: string): void {
    setImmediate(() => {
      if (sock !== this.#sock || this.state !== during) return;
      this.#cause = cause;
      sock.destroy();
    });
  }

  /** The daemon completed a handshake with us: it is alive (PeerLink.peerIsBack). */
  peerIsBack(): void {
    if (this.state === 'backoff' || this.state === 'dead') {
      this.#failures = 0;
      this.#eagerUntil = Date.now() + RETRY_WINDOW_MS;
      this.connect();
    } else if (this.state === 'up' && this.#pingSentAt === undefined) this.#ping(Date.now());
  }

  /** The shared clock: keep-alive and silence, as checkOutbound (lib/peers/liveness.ts) says. */
  tick(now: number): void {
    if (this.state !== 'up') return;
    const silent = now - this.#lastRecvAt;
    if (silent >= this.cfg.pingIntervalMs + this.cfg.pingTimeoutMs) {
      this.#cause = 'keep-alive unanswered';
      this.#sock?.destroy();
    } else if (silent >= this.cfg.pingIntervalMs && this.#pingSentAt === undefined) this.#ping(now);
  }

  #ping(now: number): void {
    this.#pingSentAt = now;
    this.stats.pingsSent++;
    this.#writer?.push(`k ${++this.#pingSeq}`);
  }

  #onData(sock: Socket, chunk: Buffer): void {
    if (sock !== this.#sock) return;
    this.#lastRecvAt = Date.now();
    try {
      this.#decoder!.push(chunk);
      for (let body = this.#decoder!.next(); body !== undefined; body = this.#decoder?.next()) {
        if (this.state === 'handshaking') this.#onServerHello(sock, body);
        else {
          for (const m of decodeMessages(this.#session!.open(body))) {
            if (m.kind === 'K') {
              this.#pingSentAt = undefined;
              this.stats.pongsReceived++;
            } else throw new Error(`unexpected ${m.kind} on an outbound link`);
          }
        }
      }
    } catch (err) {
      this.#cause = `protocol: ${(err as Error).message}`;
      sock.destroy();
    }
  }

  #onServerHello(sock: Socket, body: Buffer): void {
    const est = consumeServerHello(body, this.#init!, this.keys, this.#daemonKey);
    this.#init = undefined;
    this.#session = est.session;
    this.#decoder!.setMaxBytes(MAX_FRAME_BYTES + MAC_BYTES);
    this.#writer = new SealedWriter(sock, est.session);
    sock.write(encodeFrame(est.finish));
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.state = 'up';
    this.#failures = 0;
    this.#eagerUntil = -Infinity;
    this.#pingSentAt = undefined;
    const now = Date.now();
    this.#lastRecvAt = now;
    this.stats.outboundCameUp(now);
  }

  #onClose(sock: Socket): void {
    if (sock !== this.#sock) return;
    this.#sock = undefined;
    this.#writer?.discard();
    this.#writer = undefined;
    this.#session?.destroy();
    this.#session = undefined;
    this.#decoder = undefined;
    this.#init = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.state === 'up') {
      // Lost while up: back off from the floor (a daemon with a backlog for this peer does).
      this.stats.outboundWentDown();
      this.#backoff(nextDelayMs(this.#failures, this.cfg.backoff));
      return;
    }
    // A failed attempt: refused (not listening), closed before the handshake (admission), timed out.
    const cause = this.#cause || (this.state === 'handshaking' ? 'closed during handshake' : 'closed before connect');
    this.stats.outboundFailed(cause);
    this.#failures++;
    const eager = Date.now() < this.#eagerUntil;
    if (!eager && this.#failures >= this.cfg.deadAfterFailures) {
      this.state = 'dead';
      this.#timer = setTimeout(() => this.connect(), this.cfg.backoff.ceilingMs);
      return;
    }
    const delay = nextDelayMs(this.#failures, this.cfg.backoff);
    this.#backoff(eager ? Math.min(delay, RETRY_WINDOW_MAX_DELAY_MS) : delay);
  }

  #backoff(delayMs: number): void {
    this.state = 'backoff';
    this.#timer = setTimeout(() => this.connect(), delayMs);
  }
}
