/**
 * Listening on a UNIX socket path: replace a stale file left by a crashed
 * daemon, bind, and tighten the mode (owner and group only) before anyone
 * can connect. The caller has already made sure no other daemon owns the
 * spool directory (the pid lock), so an existing file is stale.
 */
import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { LoncapadError } from '../errors';

/** sun_path holds 108 bytes on Linux (104 on BSDs), including the NUL. */
const MAX_SOCKET_PATH_BYTES = 103;

export const SOCKET_MODE = 0o660;

export async function listenUnix(path: string, onConnection: (sock: Socket) => void): Promise<Server> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new LoncapadError('LC_ERR_CONFIG', `socket path too long (${Buffer.byteLength(path)} bytes, max ${MAX_SOCKET_PATH_BYTES}): ${path}`);
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  // Half-open: a client may shut down its side after its requests and still read the replies.
  const server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, SOCKET_MODE);
  return server;
}

/** Stop accepting and remove the file; open connections are the owner's to end. */
export async function closeUnix(server: Server, path: string): Promise<void> {
  if (server.listening) server.close();
  await unlink(path).catch(() => undefined); // already gone: nothing to clean
}
