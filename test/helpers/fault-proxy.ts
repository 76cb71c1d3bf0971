/**
 * A TCP proxy between two daemons that can lose a reply: it forwards bytes
 * both ways, and when armed it cuts the connection as soon as the upstream
 * sends anything after its handshake frame — so the request arrived and was
 * applied, but its reply never reaches the sender.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface FaultProxy {
  /** Cut the link at the next reply from upstream. */
  dropNextReply(): void;
  readonly dropped: number;
  close(): Promise<void>;
}

export async function startFaultProxy(opts: {
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
  /** Address the upstream must see (the sender's listed IP). */
  localAddress: string;
}): Promise<FaultProxy> {
  let armed = false;
  let dropped = 0;
  const conns = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = connect({ ...opts.upstream, localAddress: opts.localAddress });
    conns.add(down).add(up);
    const kill = () => {
      down.destroy();
      up.destroy();
    };
    down.on('close', kill).on('error', kill);
    up.on('close', kill).on('error', kill);
    down.on('data', (b: Buffer) => up.write(b));
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
      down.write(b);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.listen, resolve));
  return {
    dropNextReply: () => {
      armed = true;
    },
    get dropped() {
      return dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}
