/**
 * Classic per-peer sockets (`SPOOL/sock/<lonid>`), for callers written
 * against lonc: one line in, one line out, repeatable on one connection,
 * answered in the order asked. The line goes to that peer as it is; the
 * receiving dispatcher understands `sethost:<id>:` and `encrypt:`, and
 * `reset_retries` is answered by this daemon (as loncnew did).
 */
import { mkdir } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../log';
import type { InFlight } from './in-flight';
import { LineSplitter, LineWriter } from './lines';
import { MAX_LOCAL_LINE_BYTES } from './mux-protocol';
import type { RouteFn } from './route';
import { closeUnix, listenUnix } from './unix-server';

export class ClassicSockets {
  readonly dir: string;
  readonly #route: RouteFn;
  readonly #inFlight: InFlight;
  readonly #log: Logger;
  readonly #servers = new Map<string, Server>();
  readonly #conns = new Map<Socket, LineWriter>();

  constructor(dir: string, route: RouteFn, inFlight: InFlight, log: Logger) {
    this.dir = dir;
    this.#route = route;
    this.#inFlight = inFlight;
    this.#log = log;
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
    for (const id of ids) {
      if (this.#servers.has(id)) continue;
      this.#servers.set(id, await listenUnix(join(this.dir, id), (sock) => this.#onConnection(id, sock)));
    }
  }

  async close(): Promise<void> {
    await this.sync([]);
  }

  /** Shutdown: send what is queued, then close every client connection. */
  endAll(): void {
    for (const [sock, out] of this.#conns) {
      out.flush();
      sock.end();
    }
  }

  #onConnection(peer: string, sock: Socket): void {
    const splitter = new LineSplitter(MAX_LOCAL_LINE_BYTES);
    const out = new LineWriter((text) => {
      if (!sock.destroyed) sock.write(text);
    });
    this.#conns.set(sock, out);
    // Replies leave in request order even when later ones finish first.
    let chain: Promise<void> = Promise.resolve();
    sock.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch (err) {
        this.#log.warn(`classic socket ${peer}: ${(err as Error).message}; closing that connection`);
        chain = chain.then(() => {
          out.push('error:line too long');
          out.flush();
          sock.destroySoon(); // after the error reply is written
        });
        sock.pause();
        return;
      }
      for (const line of lines) {
        const reply =
          line === ''
            ? Promise.resolve('error:empty command')
            : this.#inFlight.track(this.#route(peer, line, { critical: false, timeoutMs: 0 })).catch((err: Error) => {
                // route should never reject; if it does, answer and keep serving.
                this.#log.error(`classic socket ${peer}: ${err.stack ?? err.message}`);
                return 'error:internal';
              });
        chain = chain.then(() => reply.then((r) => out.push(r.replace(/[\r\n]+/g, ' '))));
      }
    });
    sock.on('error', () => {}); // a client that vanished: 'close' cleans up
    sock.on('close', () => {
      this.#conns.delete(sock);
      out.discard();
    });
  }
}
