/**
 * A hand-made peer for security tests: speaks the wire protocol from
 * lib/wire directly (so it can also break it), from a chosen source address.
 */
import { connect, type Socket } from 'node:net';
import {
  consumeServerHello,
  createHello,
  decodeMessages,
  encodeFrame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  type SealedSession,
  type StaticKeys,
} from '../../lib/wire';

export interface RawPeer {
  readonly sock: Socket;
  readonly closed: Promise<void>;
  /** Frames received (raw bodies). */
  readonly frames: Buffer[];
  /** Next frame, or undefined if the connection closes first. */
  nextFrame(): Promise<Buffer | undefined>;
}

export function rawConnect(from: string, to: string, port: number): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: to, port, localAddress: from });
    const frames: Buffer[] = [];
    const waiters: Array<(f: Buffer | undefined) => void> = [];
    const decoder = new FrameDecoder(MAX_FRAME_BYTES + 16);
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    void closed.then(() => {
      for (const w of waiters.splice(0)) w(undefined);
    });
    sock.on('data', (b: Buffer) => {
      decoder.push(b);
      for (const f of decoder.drain()) {
        const w = waiters.shift();
        if (w) w(f);
        else frames.push(f);
      }
    });
    sock.on('error', () => {});
    sock.once('connect', () =>
      resolve({
        sock,
        closed,
        frames,
        nextFrame: () => {
          const f = frames.shift();
          if (f) return Promise.resolve(f);
          if (sock.destroyed) return Promise.resolve(undefined);
          return new Promise((r) => waiters.push(r));
        },
      }),
    );
    sock.once('error', reject);
  });
}

/**
 * A full, honest handshake as `selfId` with `keys`; returns the sealed
 * session. `sendFinish` may write Finish itself (e.g. together with the
 * first sealed frame, in one write).
 */
export async function handshake(
  peer: RawPeer,
  selfId: string,
  targetId: string,
  keys: StaticKeys,
  targetKey: Uint8Array,
  sendFinish: (finish: Buffer, session: SealedSession) => void = (finish) => peer.sock.write(encodeFrame(finish)),
): Promise<SealedSession> {
  const init = createHello(selfId, targetId);
  peer.sock.write(encodeFrame(init.hello));
  const serverHello = await peer.nextFrame();
  if (!serverHello) throw new Error('closed during handshake');
  const est = consumeServerHello(serverHello, init, keys, targetKey);
  sendFinish(est.finish, est.session);
  return est.session;
}

export function sealLines(session: SealedSession, lines: readonly string[]): Buffer {
  return encodeFrame(session.seal(Buffer.from(lines.join('\n'))));
}

export function openLines(session: SealedSession, frame: Buffer): string[] {
  return decodeMessages(session.open(frame)).map((m) => JSON.stringify(m));
}
