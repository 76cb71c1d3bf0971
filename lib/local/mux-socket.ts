/**
 * The multiplexed client socket (`SPOOL/loncapad.sock`): many requests in
 * flight per connection, replies matched by id, written once per loop turn
 * (or per LINES_PER_WRITE replies, lines.ts).
 * Each connection is greeted first with the daemon's default deadlines, so
 * that a client asking for "the daemon's default" knows how long to wait.
 * A malformed line gets an `error:` reply; a line over the size limit gets
 * one and closes that connection only (its framing is lost). Bounds and
 * half-close: line-connection.ts.
 */
import type { Server, Socket } from 'node:net';
import type { Logger } from '../log';
import type { InFlight } from './in-flight';
import { InputBudget, LineConnection } from './line-connection';
import { formatGreeting, formatReply, parseRequest, type Greeting } from './mux-protocol';
import type { RouteFn } from './route';
import { closeUnix, listenUnix } from './unix-server';

export class MuxSocketServer {
  readonly path: string;
  readonly #route: RouteFn;
  readonly #inFlight: InFlight;
  readonly #log: Logger;
  readonly #budget: InputBudget;
  readonly #greeting: () => Greeting;
  #server: Server | undefined;
  readonly #conns = new Set<LineConnection>();

  constructor(path: string, route: RouteFn, inFlight: InFlight, log: Logger, budget: InputBudget, greeting: () => Greeting) {
    this.path = path;
    this.#route = route;
    this.#inFlight = inFlight;
    this.#log = log;
    this.#budget = budget;
    this.#greeting = greeting;
  }

  async listen(): Promise<void> {
    this.#server = await listenUnix(this.path, (sock) => this.#onConnection(sock));
  }

  async close(): Promise<void> {
    if (this.#server) await closeUnix(this.#server, this.path);
    this.#server = undefined;
  }

  /** Shutdown: send what is queued, then close every client connection. */
  endAll(): void {
    for (const conn of this.#conns) conn.end();
  }

  #onConnection(sock: Socket): void {
    const conn = new LineConnection(sock, {
      name: 'local client',
      inFlight: this.#inFlight,
      log: this.#log,
      budget: this.#budget,
      tooLongReply: formatReply(0, 'error:line too long'),
      onLine: (line) => this.#onLine(conn, line),
    });
    this.#conns.add(conn);
    sock.on('close', () => this.#conns.delete(conn));
    conn.send(formatGreeting(this.#greeting()));
  }

  #onLine(conn: LineConnection, line: string): void {
    const req = parseRequest(line);
    if ('error' in req) {
      conn.send(formatReply(req.id, req.error));
      return;
    }
    conn.begin();
    this.#route(req.peer, req.command, { critical: req.kind === 'c', timeoutMs: req.timeoutMs, replyRoom: conn.replyRoom, origin: conn, abandoned: conn.gone }).then(
      (reply) => conn.reply(formatReply(req.id, reply)),
      (err: Error) => {
        // route answers in the classic vocabulary and should never reject; if it does, say so and keep serving.
        this.#log.error(`local request ${req.id} failed: ${err.stack ?? err.message}`);
        conn.reply(formatReply(req.id, 'error:internal'));
      },
    );
  }
}
