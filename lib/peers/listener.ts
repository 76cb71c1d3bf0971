/**
 * The inbound side: other servers' links to us (classic lond's job).
 *
 *   accept ─▶ source IP listed in the hosts table?          no ─▶ close
 *          ─▶ admitted (handshakes pending, Hello rate)?      no ─▶ close, no crypto
 *          ─▶ InboundSession: Hello, Finish, sealed frames (inbound-session.ts)
 *
 * The listener owns what is shared between sessions: admission of
 * unauthenticated connections (admission.ts), the summarised log of
 * refusals (refusal-log.ts), one session per (peer, served id) — a newer
 * session replaces an older one, which is usually a dead connection of the
 * peer's former run — the total of bytes held in partial frames across all
 * sessions, and the one clock that checks every session's liveness.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CloseReason } from '../errors';
import { HandshakeAdmission, type AdmissionPolicy } from './admission';
import { InboundSession, type SessionOptions } from './inbound-session';
import { checkEveryMs } from './liveness';

export type { ExecutedBatch, Executor, InboundRequest } from './inbound-session';

export interface ListenerOptions extends SessionOptions {
  readonly ip: string;
  readonly port: number;
  readonly admission?: AdmissionPolicy | undefined;
  /** A listed peer completed a handshake with us: it is alive, retry our link to it. */
  readonly onPeerConnected: (peer: string) => void;
}

/**
 * Bytes all inbound sessions together may hold in frames not yet complete.
 * Past it, the session holding the most is dropped (an authenticated peer
 * may send 16 MiB frames, but may not park many of them).
 */
export const MAX_PARTIAL_FRAME_BYTES_TOTAL = 64 * 1024 * 1024;

export class PeerListener {
  readonly #o: ListenerOptions;
  readonly #server: Server;
  readonly #sessions = new Set<InboundSession>();
  /** The authenticated session of each (peer, served id). */
  readonly #byPeer = new Map<string, InboundSession>();
  readonly #admission: HandshakeAdmission;
  readonly #clock: NodeJS.Timeout;
  #partialTotal = 0;
  #stopping = false;

  constructor(options: ListenerOptions) {
    this.#o = options;
    this.#admission = new HandshakeAdmission(options.admission, performance.now());
    this.#server = createServer({ noDelay: true }, (sock) => this.#onConnection(sock));
    this.#clock = setInterval(() => this.#checkLiveness(), checkEveryMs(options.timing));
    this.#clock.unref();
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#o.ip, port: this.#o.port }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Stop accepting; requests that still arrive are answered as transient
   * failures (the sender keeps critical ones). Existing sessions are closed
   * by closeAll (server.close's own callback would wait for them to end).
   */
  stopAccepting(): void {
    this.#stopping = true;
    if (this.#server.listening) this.#server.close();
  }

  closeAll(reason: CloseReason): void {
    clearInterval(this.#clock);
    for (const s of this.#sessions) s.close(reason);
    this.#o.refusals.flush();
  }

  /** After a hosts-table reload: drop sessions of hosts that left or changed. */
  closeIf(pred: (peer: string) => boolean, reason: CloseReason): void {
    for (const s of this.#sessions) if (s.peer && pred(s.peer.id)) s.close(reason);
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  #onConnection(sock: Socket): void {
    const ip = normaliseIp(sock.remoteAddress ?? '');
    if (this.#o.hosts().idsAtIp(ip).length === 0) {
      this.#o.refusals.note(ip, 'address not in the hosts table');
      sock.destroy();
      return;
    }
    const verdict = this.#admission.admit(ip, performance.now());
    if (verdict !== 'ok') {
      this.#o.refusals.note(ip, verdict);
      sock.destroy();
      return;
    }
    let handshaking = true;
    const handshakeOver = (): void => {
      if (handshaking) this.#admission.finished(ip);
      handshaking = false;
    };
    const session = new InboundSession(sock, ip, this.#o, {
      authenticated: (s) => {
        handshakeOver();
        this.#authenticated(s);
      },
      partialBytes: (s, delta) => this.#notePartial(s, delta),
      gone: (s) => {
        handshakeOver();
        this.#sessions.delete(s);
        const key = sessionKey(s);
        if (this.#byPeer.get(key) === s) this.#byPeer.delete(key);
      },
      stopping: () => this.#stopping,
    });
    this.#sessions.add(session);
  }

  #authenticated(s: InboundSession): void {
    const key = sessionKey(s);
    const older = this.#byPeer.get(key);
    this.#byPeer.set(key, s);
    if (older && older !== s) older.close('replaced');
    this.#o.onPeerConnected(s.peer!.id);
  }

  #notePartial(from: InboundSession, delta: number): void {
    this.#partialTotal += delta;
    if (delta <= 0 || this.#partialTotal <= MAX_PARTIAL_FRAME_BYTES_TOTAL) return;
    let largest = from;
    for (const s of this.#sessions) if (s.partialBytes > largest.partialBytes) largest = s;
    largest.destroy(
      'frame-timeout',
      `holds ${largest.partialBytes} bytes of unfinished frames while all peers together hold more than ${MAX_PARTIAL_FRAME_BYTES_TOTAL}`,
    );
  }

  #checkLiveness(): void {
    const now = performance.now();
    for (const s of this.#sessions) {
      const action = s.check(now);
      switch (action) {
        case 'none':
          break;
        case 'drop-silent':
          s.destroy('ping-timeout', `nothing received for ${Math.round(2 * this.#o.timing.pingIntervalMs + this.#o.timing.pingTimeoutMs)} ms`);
          break;
        case 'drop-stalled-frame':
          s.destroy('frame-timeout', 'a frame begun long ago never finished');
          break;
        case 'destroy-closing':
          s.destroy('ping-timeout', 'the peer did not finish closing');
          break;
        case 'ping':
        case 'close-idle':
          break; // outbound-only actions
        default: {
          const never: never = action;
          return never;
        }
      }
    }
  }
}

function sessionKey(s: InboundSession): string {
  return `${s.peer?.id ?? ''}\0${s.served}`;
}

function normaliseIp(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
