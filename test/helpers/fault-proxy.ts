/**
 * A TCP proxy between two daemons that breaks the link on purpose, the way
 * networks do. It forwards bytes both ways and, on command:
 *
 *   cut()            ends every connection through it now (both sides see a close)
 *   refuse(true)     stops listening: connects are refused (the peer looks down)
 *   busy(true)       accepts new connections and closes them at once (the peer
 *                    is there but refuses to talk, as a busy one does)
 *   stall(true)      holds every byte in both directions until stall(false)
 *   batch(ms)        delivers bytes in batches every `ms` (0: at once), so that
 *                    messages written apart arrive in one read
 *   dropNextReply()  cuts the connection as soon as the upstream sends
 *                    anything after its handshake frame: the request arrived
 *                    and was applied, but its reply never reaches the sender
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface FaultProxy {
  dropNextReply(): void;
  cut(): void;
  refuse(on: boolean): Promise<void>;
  busy(on: boolean): void;
  stall(on: boolean): void;
  batch(ms: number): void;
  readonly dropped: number;
  /** Connections accepted (including those closed at once by busy(true)). */
  readonly accepted: number;
  /** Connections closed at once because of busy(true). */
  readonly turnedAway: number;
  close(): Promise<void>;
}

/** One direction of one connection: forwards, holds or batches bytes. */
class Pipe {
  #held: Buffer[] = [];
  #timer: NodeJS.Timeout | undefined;
  constructor(
    readonly to: Socket,
    readonly mode: () => { stalled: boolean; batchMs: number },
  ) {}

  push(b: Buffer): void {
    const { stalled, batchMs } = this.mode();
    if (!stalled && batchMs === 0 && this.#held.length === 0) {
      this.to.write(b);
      return;
    }
    this.#held.push(b);
    if (!stalled) this.#timer ??= setTimeout(() => this.release(), batchMs);
  }

  /** Write what is held (at the end of a batch, or when a stall ends). */
  release(): void {
    this.#timer = undefined;
    if (this.mode().stalled || this.#held.length === 0) return;
    const all = Buffer.concat(this.#held);
    this.#held = [];
    if (!this.to.destroyed) this.to.write(all);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held = [];
  }
}

export async function startFaultProxy(opts: {
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
  /** Address the upstream must see (the sender's listed IP). */
  localAddress: string;
}): Promise<FaultProxy> {
  let armed = false;
  let dropped = 0;
  let accepted = 0;
  let turnedAway = 0;
  let busy = false;
  const mode = { stalled: false, batchMs: 0 };
  const conns = new Set<{ down: Socket; up: Socket; pipes: Pipe[] }>();
  const server: Server = createServer((down) => {
    accepted++;
    if (busy) {
      turnedAway++;
      down.destroy();
      return;
    }
    const up = connect({ ...opts.upstream, localAddress: opts.localAddress });
    const toUp = new Pipe(up, () => mode);
    const toDown = new Pipe(down, () => mode);
    const conn = { down, up, pipes: [toUp, toDown] };
    conns.add(conn);
    const kill = () => {
      toUp.stop();
      toDown.stop();
      down.destroy();
      up.destroy();
      conns.delete(conn);
    };
    down.on('close', kill).on('error', kill);
    up.on('close', kill).on('error', kill);
    down.on('data', (b: Buffer) => toUp.push(b));
    // Upstream → sender: the first frame is the handshake; anything after it is a reply.
    let seen = 0;
    let head = Buffer.alloc(0);
    let handshakeEnd = Infinity;
    up.on('data', (b: Buffer) => {
      if (handshakeEnd === Infinity) {
        head = Buffer.concat([head, b]);
        if (head.length >= 4) handshakeEnd = 4 + head.readUInt32BE(0);
      }
      seen += b.length;
      if (armed && seen > handshakeEnd) {
        armed = false;
        dropped++;
        kill();
        return;
      }
      toDown.push(b);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.listen, resolve));
  const releaseAll = () => {
    for (const c of conns) for (const p of c.pipes) p.release();
  };
  return {
    dropNextReply: () => {
      armed = true;
    },
    cut: () => {
      for (const c of [...conns]) {
        c.down.destroy();
        c.up.destroy();
      }
    },
    refuse: async (on) => {
      if (on === !server.listening) return;
      // Stop listening at once; connections through the proxy are cut() separately.
      if (on) server.close();
      else await new Promise<void>((resolve) => server.listen(opts.listen, resolve));
    },
    busy: (on) => {
      busy = on;
    },
    stall: (on) => {
      mode.stalled = on;
      if (!on) releaseAll();
    },
    batch: (ms) => {
      mode.batchMs = ms;
      if (ms === 0) releaseAll();
    },
    get dropped() {
      return dropped;
    },
    get accepted() {
      return accepted;
    },
    get turnedAway() {
      return turnedAway;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of [...conns]) {
          c.down.destroy();
          c.up.destroy();
        }
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}
