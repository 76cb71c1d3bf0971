/**
 * The inbound side: other servers' links to us (classic lond's job).
 *
 * Stages of an inbound connection:
 *   1. accept: the source IP must be listed in the hosts table, else close;
 *   2. Hello: the claimed lonid must be listed at exactly that IP, and the
 *      addressed lonid must be one of ours, else close (the reason is logged,
 *      the peer is told nothing);
 *   3. Finish: the peer proves it holds the key listed for its lonid; only
 *      then is any command read;
 *   4. sealed frames: requests run through the executor, at most
 *      MAX_COMMANDS_PER_TURN per loop turn, replies go back batched.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { HostEntry, HostsTable } from '../config/hosts';
import type { CloseReason } from '../errors';
import type { Logger } from '../log';
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

export interface InboundRequest {
  readonly id: number;
  readonly command: string;
  readonly msgid: string | undefined;
}

export interface Executor {
  /** Run requests from `caller`, in order; replies in the same order, each a line or a promise of one. */
  executeBatch(caller: HostEntry, served: string, requests: readonly InboundRequest[]): Array<string | Promise<string>>;
}

export interface ListenerOptions {
  readonly ip: string;
  readonly port: number;
  readonly keys: StaticKeys;
  readonly hosts: () => HostsTable;
  readonly ownIds: () => readonly string[];
  readonly executor: Executor;
  readonly log: Logger;
  /** A listed peer completed a handshake with us: it is alive, retry our link to it. */
  readonly onPeerConnected: (peer: string) => void;
}

/**
 * Commands served per connection per loop turn before yielding to other
 * connections (Redis's NET_MAX_WRITES_PER_EVENT idea): one peer's burst never
 * stalls the rest.
 */
const MAX_COMMANDS_PER_TURN = 256;

export class PeerListener {
  readonly #o: ListenerOptions;
  readonly #server: Server;
  readonly #sessions = new Set<InboundSession>();

  constructor(options: ListenerOptions) {
    this.#o = options;
    this.#server = createServer({ noDelay: true }, (sock) => this.#onConnection(sock));
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
   * Stop accepting. Existing sessions finish their work and are closed by
   * closeAll (server.close's own callback would wait for them to end).
   */
  stopAccepting(): void {
    if (this.#server.listening) this.#server.close();
  }

  closeAll(reason: CloseReason): void {
    for (const s of this.#sessions) s.close(reason);
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
      this.#o.log.warn(`refused connection from ${ip}: address not in the hosts table`);
      sock.destroy();
      return;
    }
    const session = new InboundSession(sock, ip, this.#o, () => this.#sessions.delete(session));
    this.#sessions.add(session);
  }
}

function normaliseIp(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

type SessionState = 'hello' | 'finish' | 'up' | 'closed';

class InboundSession {
  peer: HostEntry | undefined;
  #state: SessionState = 'hello';
  readonly #sock: Socket;
  readonly #ip: string;
  readonly #o: ListenerOptions;
  readonly #onGone: () => void;
  readonly #decoder = new FrameDecoder(MAX_HANDSHAKE_FRAME_BYTES);
  #served = '';
  #pending: ResponseCreated | undefined;
  #session: SealedSession | undefined;
  #writer: SealedWriter | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Requests decoded but not yet run (more than one turn's worth arrived). */
  #queue: Array<{ readonly id: number; readonly command: string; readonly msgid: string | undefined }> = [];
  #draining: NodeJS.Immediate | undefined;

  constructor(sock: Socket, ip: string, o: ListenerOptions, onGone: () => void) {
    this.#sock = sock;
    this.#ip = ip;
    this.#o = o;
    this.#onGone = onGone;
    this.#timer = setTimeout(() => this.#refuse(`handshake not finished in ${HANDSHAKE_TIMEOUT_MS} ms`), HANDSHAKE_TIMEOUT_MS);
    sock.on('data', (chunk: Buffer) => this.#onData(chunk));
    sock.on('error', () => {}); // 'close' follows; the reason is logged there when it matters
    sock.on('close', () => this.#onClose());
  }

  close(reason: CloseReason): void {
    if (this.#state === 'closed') return;
    this.#o.log.info(`inbound link from ${this.peer?.id ?? this.#ip} closed (${reason})`);
    this.#writer?.flush();
    this.#sock.end();
    this.#sock.destroySoon();
  }

  #onData(chunk: Buffer): void {
    try {
      for (const body of this.#decoder.push(chunk)) {
        switch (this.#state) {
          case 'hello':
            this.#onHello(body);
            break;
          case 'finish':
            this.#onFinish(body);
            break;
          case 'up':
            this.#onFrame(body);
            break;
          case 'closed':
            return;
          default: {
            const never: never = this.#state;
            return never;
          }
        }
      }
    } catch (err) {
      if (this.#state === 'up') {
        this.#o.log.warn(`inbound link from ${this.peer!.id}: protocol-violation: ${(err as Error).message}`);
        this.#sock.destroy();
      } else this.#refuse((err as Error).message);
    }
  }

  #onHello(body: Buffer): void {
    const hello = parseHello(body);
    const hosts = this.#o.hosts();
    const claimed = hosts.get(hello.initiatorId);
    if (!claimed) return this.#refuse(`unknown lonid "${hello.initiatorId}"`);
    if (claimed.ip !== this.#ip) return this.#refuse(`${claimed.id} is listed at ${claimed.ip}, not ${this.#ip}`);
    if (!this.#o.ownIds().includes(hello.targetId)) return this.#refuse(`addressed "${hello.targetId}", not one of ours`);
    const created = createServerHello(hello, hello.targetId, this.#o.keys, Buffer.from(claimed.publicKey, 'base64'));
    this.peer = claimed;
    this.#served = hello.targetId;
    this.#pending = created;
    this.#state = 'finish';
    this.#sock.write(encodeFrame(created.serverHello));
  }

  #onFinish(body: Buffer): void {
    const est = consumeFinish(body, this.#pending!);
    this.#pending = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#session = est.session;
    this.#writer = new SealedWriter(this.#sock, est.session);
    this.#decoder.setMaxBytes(MAX_FRAME_BYTES + MAC_BYTES);
    this.#state = 'up';
    this.#o.log.info(`inbound link from ${this.peer!.id} up (protocol v${est.version})`);
    this.#o.onPeerConnected(this.peer!.id);
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
    this.#drain();
  }

  /** Run up to one turn's worth of queued requests; yield if more remain. */
  readonly #drain = (): void => {
    this.#draining = undefined;
    if (this.#state !== 'up') return;
    const batch = this.#queue.length <= MAX_COMMANDS_PER_TURN ? this.#queue : this.#queue.slice(0, MAX_COMMANDS_PER_TURN);
    this.#queue = batch === this.#queue ? [] : this.#queue.slice(MAX_COMMANDS_PER_TURN);
    if (batch.length > 0) {
      const replies = this.#o.executor.executeBatch(this.peer!, this.#served, batch);
      for (let i = 0; i < batch.length; i++) this.#reply(batch[i]!.id, replies[i]!);
    }
    if (this.#queue.length > 0) {
      this.#sock.pause();
      this.#draining = setImmediate(this.#drain);
    } else if (this.#sock.isPaused()) this.#sock.resume();
  };

  #reply(id: number, reply: string | Promise<string>): void {
    if (typeof reply === 'string') {
      this.#writer!.pushReply(id, reply);
      return;
    }
    // Handlers' promises answer in the classic vocabulary and do not reject.
    void reply.then((line) => this.#writer?.pushReply(id, line));
  }

  #refuse(why: string): void {
    if (this.#state === 'closed') return;
    this.#o.log.warn(`refused peer connection from ${this.#ip}: ${why}`);
    this.#sock.destroy();
  }

  #onClose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#draining) clearImmediate(this.#draining);
    this.#writer?.discard();
    this.#session?.destroy();
    if (this.#state === 'up') this.#o.log.info(`inbound link from ${this.peer!.id} down`);
    this.#state = 'closed';
    this.#queue = [];
    this.#onGone();
  }
}
