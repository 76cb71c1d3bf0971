/**
 * The node:http listener the request processor runs behind: limits, listen
 * and a stop that does not wait for idle keep-alive clients.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A client must send its headers within this time (slowloris). */
export const HEADERS_TIMEOUT_MS = 20_000;
/** A whole request (headers and body) must arrive within this time. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** Idle keep-alive connections are closed after this time. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export function createWebListener(onRequest: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS }, onRequest);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}

/**
 * Tell `responded` the status code of every response sent. One listener
 * function for all responses, so nothing is allocated per request.
 */
export function observeResponses(server: Server, responded: (status: number) => void): void {
  function responseOnFinish(this: ServerResponse): void {
    responded(this.statusCode);
  }
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => res.on('finish', responseOnFinish));
}

export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const serverOnError = (err: Error) => reject(err);
    server.once('error', serverOnError);
    server.listen(port, host, () => {
      server.removeListener('error', serverOnError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Requests still running at stop get this long to finish before their connections are cut. */
export const STOP_GRACE_MS = 5_000;

/** Stop accepting, drop idle keep-alive sockets now, and wait (boundedly) for requests in flight. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const expiredGrace = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    server.close((err) => {
      clearTimeout(expiredGrace);
      if (err === undefined) resolve();
      else reject(err);
    });
    server.closeIdleConnections();
  });
}
