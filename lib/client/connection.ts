/**
 * The client library local processes use: one persistent connection to the
 * daemon's multiplexed socket, requests pipelined and matched by id, every
 * call with a deadline.
 *
 *   const c = await connect({ spool: '/var/lib/loncapad' });
 *   await c.reply('msul2', 'ping');              // 'msul2'
 *   await c.critical('msul2', 'log:msu:amy:x');  // 'ok' or 'con_delayed'
 *   await c.close();
 */
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { LoncapadError } from '../errors';
import {
  formatRequest,
  LineSplitter,
  LineWriter,
  MAX_LOCAL_LINE_BYTES,
  parseGreeting,
  parseReply,
  SELF_PEER,
  type Greeting,
  type RequestKind,
} from '../local';

export interface ConnectOptions {
  /** The daemon's state directory; the socket is `<spool>/loncapad.sock`. */
  readonly spool?: string;
  /** The socket path itself (overrides `spool`). */
  readonly socket?: string;
}

export interface CallOptions {
  /**
   * Deadline, ms, from 0 to MAX_TIMEOUT_MS (one day). For `reply` the daemon
   * answers `con_lost` when it passes; for `critical` it spools the message
   * and answers `con_delayed`. Omitted or 0: the daemon's own default
   * (`--request-timeout-ms`, `--critical-timeout-ms`), which it tells the
   * client when it connects.
   */
  readonly timeoutMs?: number;
}

/**
 * The daemon answers at the deadline itself; the client waits this much
 * longer before giving up on a daemon that does not answer at all.
 */
const CLIENT_GRACE_MS = 2_000;
/** A daemon that accepts the connection but does not greet within this is not running, ms. */
const GREETING_TIMEOUT_MS = 5_000;

interface Pending {
  readonly resolve: (reply: string) => void;
  readonly reject: (err: LoncapadError) => void;
  readonly timer: NodeJS.Timeout;
}

export class LoncapadClient {
  readonly socketPath: string;
  /** What the daemon said when we connected: its version and default deadlines. */
  readonly greeting: Greeting;
  readonly #sock: Socket;
  readonly #out: LineWriter;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: LoncapadError | undefined;

  private constructor(socketPath: string, sock: Socket, greeting: Greeting, splitter: LineSplitter) {
    this.socketPath = socketPath;
    this.greeting = greeting;
    this.#sock = sock;
    this.#out = new LineWriter((text) => sock.write(text));
    sock.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) this.#onReply(line);
    });
    sock.on('error', () => {}); // 'close' fails what is pending
    sock.on('close', () => this.#onClose());
  }

  /** Connect and wait for the daemon's greeting (a daemon that accepts but never greets is not running). */
  static connect(options: ConnectOptions = {}): Promise<LoncapadClient> {
    const path = options.socket ?? join(options.spool ?? './spool', 'loncapad.sock');
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      const splitter = new LineSplitter(MAX_LOCAL_LINE_BYTES);
      const notRunning = (why: string, cause?: unknown): void => {
        clearTimeout(timer);
        sock.destroy();
        reject(new LoncapadError('LC_ERR_NOT_RUNNING', `loncapad is not running (${why})`, { cause }));
      };
      const timer = setTimeout(() => notRunning(`${path} accepted but no greeting came in ${GREETING_TIMEOUT_MS} ms`), GREETING_TIMEOUT_MS);
      const onError = (err: NodeJS.ErrnoException): void => notRunning(`cannot connect to ${path}: ${err.code ?? err.message}`, err);
      const onClose = (): void => notRunning(`${path} closed the connection before greeting`);
      const onData = (chunk: Buffer): void => {
        // Everything after the greeting in this chunk stays in the splitter for the client.
        const [first] = splitter.push(chunk);
        if (first === undefined) return;
        const greeting = parseGreeting(first);
        if (!greeting) return notRunning(`${path} did not greet as loncapad does`);
        clearTimeout(timer);
        sock.off('data', onData).off('error', onError).off('close', onClose);
        resolve(new LoncapadClient(path, sock, greeting, splitter));
      };
      sock.on('data', onData).once('error', onError).once('close', onClose);
    });
  }

  /** Send a command to a peer (or `.`, this daemon) and get its reply line. */
  reply(peer: string, command: string, opts: CallOptions = {}): Promise<string> {
    return this.#call('r', peer, command, opts.timeoutMs ?? 0, this.greeting.replyTimeoutMs);
  }

  /** A write that must not be lost: the reply, or `con_delayed` once it is safely spooled. */
  critical(peer: string, command: string, opts: CallOptions = {}): Promise<string> {
    return this.#call('c', peer, command, opts.timeoutMs ?? 0, this.greeting.criticalTimeoutMs);
  }

  /** An operator command to this daemon itself (`status`, `spool:list`, …). */
  admin(command: string, opts: CallOptions = {}): Promise<string> {
    return this.reply(SELF_PEER, command, opts);
  }

  close(): Promise<void> {
    this.#out.flush();
    return new Promise((resolve) => {
      if (this.#sock.destroyed) return resolve();
      this.#sock.once('close', () => resolve());
      this.#sock.end();
    });
  }

  /** `timeoutMs` 0 asks for the daemon's default, `daemonDefaultMs`; the client waits that long plus a grace. */
  #call(kind: RequestKind, peer: string, command: string, timeoutMs: number, daemonDefaultMs: number): Promise<string> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    let line: string;
    try {
      line = formatRequest({ id, kind, timeoutMs, peer, command });
    } catch (err) {
      return Promise.reject(err);
    }
    const waitMs = (timeoutMs || daemonDefaultMs) + CLIENT_GRACE_MS;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new LoncapadError('LC_ERR_TIMEOUT', `loncapad did not answer within ${waitMs} ms`));
      }, waitMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#out.push(line);
    });
  }

  #onReply(line: string): void {
    const { id, reply } = parseReply(line);
    const p = this.#pending.get(id);
    if (!p) return; // its deadline passed
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(reply);
  }

  #onClose(): void {
    this.#closed = new LoncapadError('LC_ERR_NOT_RUNNING', 'connection to loncapad closed');
    this.#out.discard();
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.#closed);
    }
    this.#pending.clear();
  }
}

export function connect(options: ConnectOptions = {}): Promise<LoncapadClient> {
  return LoncapadClient.connect(options);
}
