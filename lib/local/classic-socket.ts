/**
 * Classic per-peer sockets (`SPOOL/sock/<lonid>`), for callers written
 * against lonc: one line in, one line out, repeatable on one connection,
 * answered in the order asked. The line goes to that peer as it is; the
 * receiving dispatcher understands `sethost:<id>:` and `encrypt:`, and
 * `reset_retries` is answered by this daemon (as loncnew did). Bounds and
 * half-close (`printf 'ping\n' | socat - UNIX-CONNECT:…`): line-connection.ts.
 */
import { mkdir } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { InFlight } from './in-flight';
import { InputBudget, LineConnection } from './line-connection';
import type { RouteFn } from './route';
import { closeUnix, listenUnix } from './unix-server';

/** Per-peer sockets bound at once. */
const BIND_BATCH = 64;

export class ClassicSockets {
  readonly dir: string;
  readonly #route: RouteFn;
  readonly #inFlight: InFlight;
  readonly #log: Logger;
  readonly #budget: InputBudget;
  readonly #servers = new Map<string, Server>();
  readonly #conns = new Set<LineConnection>();

  constructor(dir: string, route: RouteFn, inFlight: InFlight, log: Logger, budget: InputBudget) {
    this.dir = dir;
    this.#route = route;
    this.#inFlight = inFlight;
    this.#log = log;
    this.#budget = budget;
  }

  /** One socket per listed host: add the new ones, remove the gone ones. */
  async sync(ids: readonly string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    for (const [id, server] of this.#servers) {
      if (!ids.includes(id)) {
        this.#servers.delete(id);
        await closeUnix(server, join(this.dir, id));
      }
    }
    // Bound a batch at a time: one by one, 1,000 hosts' sockets made a start-up take half a second.
    const missing = ids.filter((id) => !this.#servers.has(id));
    for (let i = 0; i < missing.length; i += BIND_BATCH) {
      await Promise.all(
        missing.slice(i, i + BIND_BATCH).map(async (id) => {
          this.#servers.set(id, await listenUnix(join(this.dir, id), (sock) => this.#onConnection(id, sock)));
        }),
      );
    }
  }

  async close(): Promise<void> {
    await this.sync([]);
  }

  /** Shutdown: send what is queued, then close every client connection. */
  endAll(): void {
    for (const conn of this.#conns) conn.end();
  }

  #onConnection(peer: string, sock: Socket): void {
    // Replies leave in request order even when later ones finish first.
    let chain: Promise<void> = Promise.resolve();
    const conn = new LineConnection(sock, {
      name: `classic socket ${peer}`,
      inFlight: this.#inFlight,
      log: this.#log,
      budget: this.#budget,
      tooLongReply: 'error:line too long',
      onLine: (line) => {
        conn.begin();
        const reply =
          line === ''
            ? Promise.resolve('error:empty command')
            : this.#route(peer, line, { critical: false, timeoutMs: 0, replyRoom: conn.replyRoom, origin: conn, abandoned: conn.gone }).catch((err: Error) => {
                // route should never reject; if it does, answer and keep serving.
                this.#log.error(`classic socket ${peer}: ${err.stack ?? err.message}`);
                return 'error:internal';
              });
        chain = chain.then(() => reply.then((r) => conn.reply(r.replace(/[\r\n]+/g, ' '))));
      },
    });
    this.#conns.add(conn);
    sock.on('close', () => this.#conns.delete(conn));
  }
}
