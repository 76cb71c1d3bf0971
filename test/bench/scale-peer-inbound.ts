/**
 * One scale-bench peer's listener (scale-peers.ts): it takes the daemon's
 * outbound links to this peer, and nobody else's.
 *
 *   Hello (from the daemon's address, for this peer) ─▶ ServerHello
 *   Finish (the daemon holds its key) ─▶ up: the daemon is alive, so the
 *     peer's own link retries now if it was down (peerIsBack)
 *   up: `k` ─▶ `K`; `ping` ─▶ this peer's lonid (what a daemon's ping
 *     answers); any other request ─▶ `unknown_cmd`
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  consumeFinish,
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
  type SealedSession,
  type StaticKeys,
} from '../../lib/wire';
import type { PeerOutbound } from './scale-peer-outbound';
import type { HelperConfig, PeerSpec, PeerStats } from './scale-peer-stats';

/** One peer's listener: the daemon's outbound links to this peer. */
export class PeerInbound {
  readonly #server: Server;
  readonly #daemonKey: Uint8Array;

  constructor(
    readonly spec: PeerSpec,
    readonly keys: StaticKeys,
    readonly cfg: HelperConfig,
    readonly outbound: PeerOutbound,
    readonly stats: PeerStats,
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
      if (state === 'up') this.stats.inboundUp--;
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
            this.stats.inboundCameUp(this.spec.id);
            this.outbound.peerIsBack();
          } else {
            for (const m of decodeMessages(session!.open(body))) {
              if (m.kind === 'k') {
                this.stats.pingsAnswered++;
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
}
