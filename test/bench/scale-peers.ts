/**
 * A helper process of the scale bench (scale.ts): it hosts a few hundred
 * loncapad peers of the daemon under test, each with its own key and its
 * own loopback address, speaking the real wire protocol through lib/wire.
 * Each peer is what a real loncapad host is to the daemon:
 *
 *   peer's outbound link ──Hello/Finish, then `k` when silent──▶ daemon's listener
 *   peer's listener ◀──── the daemon's outbound link (Hello, `q ping`, `k`)
 *
 * - The outbound link (PeerOutbound) behaves as the daemon's PeerLink does
 *   for a peer it holds a backlog for: it connects, pings after
 *   `pingIntervalMs` of silence, drops the link when nothing comes back
 *   within `pingTimeoutMs` more, and after a close reconnects with the
 *   daemon's own jittered backoff (`nextDelayMs`), marks the daemon dead
 *   after `deadAfterFailures` failed attempts (then retries at the
 *   ceiling), and retries at once, eagerly, when the daemon completes a
 *   handshake with it (its start-up announcement: PeerLink.peerIsBack).
 * - The listener (PeerInbound) answers the daemon's outbound link: `k` with
 *   `K`, `ping` with its lonid (what a daemon's `ping` answers), anything
 *   else with `unknown_cmd`.
 *
 * The helpers share the machine's two cores with the daemon (on a real
 * network each peer has its own), so their crypto competes with the
 * daemon's: figures here are pessimistic. Running them at a lower priority
 * was tried and made things worse: a starved peer sends its Finish late,
 * and the daemon's admission counts its handshake as pending meanwhile.
 * One liberty, so that their crowding does not pass for the daemon's
 * doing: a peer's connect and handshake deadlines are decided after the
 * I/O of the turn in which they fire.
 *
 *   node scale-peers.js <config.json>        (spawned by scale.ts, IPC only)
 *
 * The driver talks to it over the IPC channel: `listen`, `connect`, `mark`
 * (start counting the reconnect from now) and `counts`; every message it
 * sends back carries `ev`.
 */
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  consumeFinish,
  consumeServerHello,
  createHello,
  createServerHello,
  decodeMessages,
  encodeFrame,
  FrameDecoder,
  HANDSHAKE_TIMEOUT_MS,
  MAC_BYTES,
  MAX_FRAME_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  parseHello,
  SealedWriter,
  type InitiationCreated,
  type SealedSession,
  type StaticKeys,
} from '../../lib/wire';
import { nextDelayMs, type BackoffPolicy } from '../../lib/peers';
import { RETRY_WINDOW_MS } from '../../lib/peers/link';

export interface PeerSpec {
  readonly id: string;
  readonly ip: string;
  /** base64 X25519 keys */
  readonly publicKey: string;
  readonly secretKey: string;
}

export interface HelperConfig {
  readonly daemon: { readonly id: string; readonly ip: string; readonly publicKey: string };
  readonly port: number;
  readonly peers: readonly PeerSpec[];
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly deadAfterFailures: number;
}

/** What a helper reports on `counts`. Times are Date.now() values (ms), comparable across processes. */
export interface HelperCounts {
  readonly ev: 'counts';
  readonly peers: number;
  /** Peers whose outbound link to the daemon is up now. */
  readonly outboundUp: number;
  /** Daemon links to our peers that are up now. */
  readonly inboundUp: number;
  /** When the last of our peers' outbound links came up while all were up, or null while some are down. */
  readonly outboundAllUpAt: number | null;
  /** Since `mark`: when each outbound link came up (a peer that came up twice counts twice). */
  readonly outboundUpAtSinceMark: readonly number[];
  /** Since `mark`: peers the daemon completed a handshake with (its announcement), and when the last one did. */
  readonly inboundPeersSinceMark: number;
  readonly inboundAllSinceMarkAt: number | null;
  /** Since `mark`: failed outbound attempts, by cause. */
  readonly failures: Readonly<Record<string, number>>;
  /** Since `mark`: keep-alives sent by our peers, answered by the daemon, and keep-alives of the daemon we answered. */
  readonly pingsSent: number;
  readonly pongsReceived: number;
  readonly pingsAnswered: number;
  /** Peers in each outbound state now. */
  readonly states: Readonly<Record<string, number>>;
}

/** How often one shared clock checks every outbound link's keep-alive, ms (the daemon checks at a quarter of the interval). */
const CLOCK_MS = 1_000;
/** Longest pause between attempts during an eager retry (PeerLink's RETRY_WINDOW_MAX_DELAY_MS). */
const RETRY_WINDOW_MAX_DELAY_MS = 1_000;

const stats = {
  outboundUpAtSinceMark: [] as number[],
  inboundPeersSinceMark: new Set<string>(),
  inboundAllSinceMarkAt: null as number | null,
  failures: {} as Record<string, number>,
  pingsSent: 0,
  pongsReceived: 0,
  pingsAnswered: 0,
  outboundUp: 0,
  inboundUp: 0,
  outboundAllUpAt: null as number | null,
};

function keysOf(p: PeerSpec): StaticKeys {
  return { publicKey: Buffer.from(p.publicKey, 'base64'), secretKey: Buffer.from(p.secretKey, 'base64') };
}

type OutboundState = 'idle' | 'connecting' | 'handshaking' | 'up' | 'backoff' | 'dead';

/** One peer's link to the daemon. */
class PeerOutbound {
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
    readonly total: number,
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
    stats.pingsSent++;
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
              stats.pongsReceived++;
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
    stats.outboundUpAtSinceMark.push(now);
    if (++stats.outboundUp === this.total) stats.outboundAllUpAt = now;
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
      stats.outboundUp--;
      stats.outboundAllUpAt = null;
      this.#backoff(nextDelayMs(this.#failures, this.cfg.backoff));
      return;
    }
    // A failed attempt: refused (not listening), closed before the handshake (admission), timed out.
    const cause = this.#cause || (this.state === 'handshaking' ? 'closed during handshake' : 'closed before connect');
    stats.failures[cause] = (stats.failures[cause] ?? 0) + 1;
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

/** One peer's listener: the daemon's outbound links to this peer. */
class PeerInbound {
  readonly #server: Server;
  readonly #daemonKey: Uint8Array;

  constructor(
    readonly spec: PeerSpec,
    readonly keys: StaticKeys,
    readonly cfg: HelperConfig,
    readonly outbound: PeerOutbound,
    readonly total: number,
  ) {
    this.#daemonKey = Buffer.from(cfg.daemon.publicKey, 'base64');
    this.#server = createServer({ noDelay: true }, (sock) => this.#onConnection(sock));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.spec.ip, port: this.cfg.port, backlog: 64 }, () => resolve());
    });
  }

  #onConnection(sock: Socket): void {
    const from = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (from !== this.cfg.daemon.ip) {
      sock.destroy();
      return;
    }
    const decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
    let state: 'hello' | 'finish' | 'up' = 'hello';
    let pending: ReturnType<typeof createServerHello> | undefined;
    let writer: SealedWriter | undefined;
    let session: SealedSession | undefined;
    // Decided after this turn's I/O, as PeerOutbound's deadlines are (#expired).
    const handshakeTimer = setTimeout(() => setImmediate(() => state !== 'up' && sock.destroy()), HANDSHAKE_TIMEOUT_MS);
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(handshakeTimer);
      writer?.discard();
      session?.destroy();
      if (state === 'up') stats.inboundUp--;
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
        for (let body = decoder.next(); body !== undefined; body = decoder.next()) {
          if (state === 'hello') {
            const hello = parseHello(body);
            if (hello.initiatorId !== this.cfg.daemon.id || hello.targetId !== this.spec.id) throw new Error('not the daemon, or not us');
            pending = createServerHello(hello, this.spec.id, this.keys, this.#daemonKey);
            state = 'finish';
            sock.write(encodeFrame(pending.serverHello));
          } else if (state === 'finish') {
            session = consumeFinish(body, pending!).session;
            pending = undefined;
            clearTimeout(handshakeTimer);
            writer = new SealedWriter(sock, session);
            decoder.setMaxBytes(MAX_FRAME_BYTES + MAC_BYTES);
            state = 'up';
            stats.inboundUp++;
            this.#noteHandshake();
            this.outbound.peerIsBack();
          } else {
            for (const m of decodeMessages(session!.open(body))) {
              if (m.kind === 'k') {
                stats.pingsAnswered++;
                writer!.push(`K ${m.id}`);
              } else if (m.kind === 'q' || m.kind === 'c') {
                // A daemon's `ping` answers its own lonid; this peer runs nothing else.
                writer!.pushReply(m.id, m.command === 'ping' ? this.spec.id : 'unknown_cmd');
              } else throw new Error(`unexpected ${m.kind} on an inbound link`);
            }
          }
        }
      } catch {
        sock.destroy();
      }
    });
  }

  #noteHandshake(): void {
    const seen = stats.inboundPeersSinceMark;
    if (seen.has(this.spec.id)) return;
    seen.add(this.spec.id);
    if (seen.size === this.total) stats.inboundAllSinceMarkAt = Date.now();
  }
}

function counts(outbound: readonly PeerOutbound[]): HelperCounts {
  const states: Record<string, number> = {};
  for (const o of outbound) states[o.state] = (states[o.state] ?? 0) + 1;
  return {
    ev: 'counts',
    peers: outbound.length,
    outboundUp: stats.outboundUp,
    inboundUp: stats.inboundUp,
    outboundAllUpAt: stats.outboundAllUpAt,
    outboundUpAtSinceMark: stats.outboundUpAtSinceMark,
    inboundPeersSinceMark: stats.inboundPeersSinceMark.size,
    inboundAllSinceMarkAt: stats.inboundAllSinceMarkAt,
    failures: stats.failures,
    pingsSent: stats.pingsSent,
    pongsReceived: stats.pongsReceived,
    pingsAnswered: stats.pingsAnswered,
    states,
  };
}

function mark(): void {
  stats.outboundUpAtSinceMark = [];
  stats.inboundPeersSinceMark = new Set();
  stats.inboundAllSinceMarkAt = null;
  stats.failures = {};
  stats.pingsSent = 0;
  stats.pongsReceived = 0;
  stats.pingsAnswered = 0;
}

async function main(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as HelperConfig;
  const n = cfg.peers.length;
  const outbound = cfg.peers.map((p) => new PeerOutbound(p, keysOf(p), cfg, n));
  const inbound = cfg.peers.map((p, i) => new PeerInbound(p, keysOf(p), cfg, outbound[i]!, n));
  const clock = setInterval(() => {
    const now = Date.now();
    for (const o of outbound) o.tick(now);
  }, CLOCK_MS);
  const send = (m: object): void => void process.send!(m);
  process.on('message', (msg: { cmd: string }) => {
    switch (msg.cmd) {
      case 'listen':
        void Promise.all(inbound.map((l) => l.listen())).then(
          () => send({ ev: 'listening' }),
          (err: Error) => send({ ev: 'error', message: err.message }),
        );
        break;
      case 'connect':
        mark();
        for (const o of outbound) o.connect();
        break;
      case 'mark':
        mark();
        send({ ev: 'marked' });
        break;
      case 'counts':
        send(counts(outbound));
        break;
      case 'exit':
        clearInterval(clock);
        process.exit(0);
        break;
      default:
        send({ ev: 'error', message: `unknown command ${msg.cmd}` });
    }
  });
  // The driver is gone: so are we.
  process.on('disconnect', () => process.exit(0));
  send({ ev: 'started' });
}

if (require.main === module) {
  main(process.argv[2]!).catch((err: Error) => {
    process.stderr.write(`scale peers: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
