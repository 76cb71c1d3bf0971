/**
 * The listener the request processor runs behind: node:http, or node:https
 * when the operator gives a certificate; limits, listen, and a stop that does
 * not wait for idle keep-alive clients.
 *
 * The certificate and key are read with fs.promises at start and on every
 * reload (SIGHUP), and swapped in with `setSecureContext`: connections
 * already open keep the context they were made with, new ones get the new
 * certificate, and the listening socket is never closed (so a renewal drops
 * no client).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DefaultingResponse } from './security-headers';

/** A client must send its headers within this time (slowloris). */
export const HEADERS_TIMEOUT_MS = 20_000;
/** A whole request (headers and body) must arrive within this time. */
export const REQUEST_TIMEOUT_MS = 60_000;
/** Idle keep-alive connections are closed after this time. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A client must finish the TLS handshake within this time. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export type WebListener = Server | TlsServer;
type OnRequest = (req: IncomingMessage, res: ServerResponse) => void;

/** PEM files of the web server's certificate (chain first) and private key. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsPem {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export async function readTlsFiles(files: TlsFiles): Promise<TlsPem> {
  const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  return { cert, key };
}

/** A plain HTTP listener, or an HTTPS one serving `tls`. */
export function createWebListener(onRequest: OnRequest, tls?: TlsPem): WebListener {
  const limits = {
    requestTimeout: REQUEST_TIMEOUT_MS,
    headersTimeout: HEADERS_TIMEOUT_MS,
    // The class node builds each response from; the listener's types stay the plain ones.
    ServerResponse: DefaultingResponse as typeof ServerResponse,
  };
  const server =
    tls === undefined
      ? createServer(limits, onRequest)
      : createTlsServer({ ...limits, cert: tls.cert, key: tls.key, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, onRequest);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return server;
}

/**
 * Tell `responded` the status code of every response sent. One listener
 * function for all responses, so nothing is allocated per request.
 */
export function observeResponses(server: WebListener, responded: (status: number) => void): void {
  function responseOnFinish(this: ServerResponse): void {
    responded(this.statusCode);
  }
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => res.on('finish', responseOnFinish));
}

export function listen(server: WebListener, host: string, port: number): Promise<AddressInfo> {
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
export function close(server: WebListener): Promise<void> {
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
