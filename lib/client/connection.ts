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
import { formatRequest, LineSplitter, LineWriter, MAX_LOCAL_LINE_BYTES, parseReply, SELF_PEER, type RequestKind } from '../local';

export interface ConnectOptions {
  /** The daemon's state directory; the socket is `<spool>/loncapad.sock`. */
  readonly spool?: string;
  /** The socket path itself (overrides `spool`). */
  readonly socket?: string;
}

export interface CallOptions {
  /**
   * Deadline, ms. For `reply` the daemon answers `con_lost` when it passes
   * (default 30 000); for `critical` it spools the message and answers
   * `con_delayed` (default 10 000).
   */
  readonly timeoutMs?: number;
}

/** Default deadlines, ms (see CallOptions). */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;
export const DEFAULT_CRITICAL_TIMEOUT_MS = 10_000;
/**
 * The daemon answers at the deadline itself; the client waits this much
 * longer before giving up on a daemon that does not answer at all.
 */
const CLIENT_GRACE_MS = 2_000;

interface Pending {
  readonly resolve: (reply: string) => void;
  readonly reject: (err: LoncapadError) => void;
  readonly timer: NodeJS.Timeout;
}

export class LoncapadClient {
  readonly socketPath: string;
  readonly #sock: Socket;
  readonly #out: LineWriter;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: LoncapadError | undefined;

  private constructor(socketPath: string, sock: Socket) {
    this.socketPath = socketPath;
    this.#sock = sock;
    this.#out = new LineWriter((text) => sock.write(text));
    const splitter = new LineSplitter(MAX_LOCAL_LINE_BYTES);
    sock.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) this.#onReply(line);
    });
    sock.on('error', () => {}); // 'close' fails what is pending
    sock.on('close', () => this.#onClose());
  }

  static connect(options: ConnectOptions = {}): Promise<LoncapadClient> {
    const path = options.socket ?? join(options.spool ?? './spool', 'loncapad.sock');
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      sock.once('connect', () => {
        sock.off('error', onError);
        resolve(new LoncapadClient(path, sock));
      });
      const onError = (err: NodeJS.ErrnoException): void =>
        reject(
          new LoncapadError('LC_ERR_NOT_RUNNING', `loncapad is not running (cannot connect to ${path}: ${err.code ?? err.message})`, {
            cause: err,
          }),
        );
      sock.once('error', onError);
    });
  }

  /** Send a command to a peer (or `.`, this daemon) and get its reply line. */
  reply(peer: string, command: string, opts: CallOptions = {}): Promise<string> {
    return this.#call('r', peer, command, opts.timeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS);
  }

  /** A write that must not be lost: the reply, or `con_delayed` once it is safely spooled. */
  critical(peer: string, command: string, opts: CallOptions = {}): Promise<string> {
    return this.#call('c', peer, command, opts.timeoutMs ?? DEFAULT_CRITICAL_TIMEOUT_MS);
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

  #call(kind: RequestKind, peer: string, command: string, timeoutMs: number): Promise<string> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    let line: string;
    try {
      line = formatRequest({ id, kind, timeoutMs, peer, command });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new LoncapadError('LC_ERR_TIMEOUT', `loncapad did not answer within ${timeoutMs + CLIENT_GRACE_MS} ms`));
      }, timeoutMs + CLIENT_GRACE_MS);
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
