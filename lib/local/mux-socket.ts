/**
 * The multiplexed client socket (`SPOOL/loncapad.sock`): many requests in
 * flight per connection, replies matched by id, written once per loop turn.
 * A malformed line gets an `error:` reply; a line over the size limit gets
 * one and closes that connection only (its framing is lost).
 */
import type { Server, Socket } from 'node:net';
import type { Logger } from '../log';
import type { InFlight } from './in-flight';
import { LineSplitter, LineWriter } from './lines';
import { formatReply, MAX_LOCAL_LINE_BYTES, parseRequest } from './mux-protocol';
import type { RouteFn } from './route';
import { closeUnix, listenUnix } from './unix-server';

export class MuxSocketServer {
  readonly path: string;
  readonly #route: RouteFn;
  readonly #inFlight: InFlight;
  readonly #log: Logger;
  #server: Server | undefined;
  readonly #conns = new Map<Socket, LineWriter>();

  constructor(path: string, route: RouteFn, inFlight: InFlight, log: Logger) {
    this.path = path;
    this.#route = route;
    this.#inFlight = inFlight;
    this.#log = log;
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
    for (const [sock, out] of this.#conns) {
      out.flush();
      sock.end();
    }
  }

  #onConnection(sock: Socket): void {
    const splitter = new LineSplitter(MAX_LOCAL_LINE_BYTES);
    const out = new LineWriter((text) => {
      if (!sock.destroyed) sock.write(text);
    });
    this.#conns.set(sock, out);
    sock.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch (err) {
        this.#log.warn(`local client: ${(err as Error).message}; closing that connection`);
        out.push(formatReply(0, 'error:line too long'));
        out.flush();
        sock.destroySoon(); // after the error reply is written
        sock.pause();
        return;
      }
      for (const line of lines) {
        const req = parseRequest(line);
        if ('error' in req) {
          out.push(formatReply(req.id, req.error));
          continue;
        }
        this.#inFlight
          .track(this.#route(req.peer, req.command, { critical: req.kind === 'c', timeoutMs: req.timeoutMs }))
          .then(
            (reply) => out.push(formatReply(req.id, reply)),
            (err: Error) => {
              // route answers in the classic vocabulary and should never reject; if it does, say so and keep serving.
              this.#log.error(`local request ${req.id} failed: ${err.stack ?? err.message}`);
              out.push(formatReply(req.id, 'error:internal'));
            },
          );
      }
    });
    sock.on('error', () => {}); // a client that vanished: 'close' cleans up
    sock.on('close', () => {
      this.#conns.delete(sock);
      out.discard();
    });
  }
}
