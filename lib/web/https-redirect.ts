/**
 * The optional plain-HTTP listener beside an HTTPS web server
 * (`--http-redirect-port`): it serves nothing, and sends every request to
 * the same path on HTTPS, so that a link or a typed `http://` address still
 * arrives, and never with a password in clear (the login form is only ever
 * shown over HTTPS, whose HSTS header then keeps the browser there).
 *
 * GET and HEAD get 301; other methods 308, which keeps the method and body
 * (a form posted to http:// is re-sent to https://, not turned into a GET).
 * The host is the one the client asked for (its Host header, port replaced);
 * a Host header that is not a plain host name or address gives the
 * listener's own address instead, so no header can steer the redirect into
 * a malformed Location.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createWebListener, type WebListener } from './http-server';
import { sendPlain } from './responses';

const HOST_NAME_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;
/** Path and query as sent: printable ASCII from a leading '/' (anything else goes to '/'). */
const ORIGIN_FORM_RE = /^\/[\x21-\x7e]*$/;
const HTTPS_DEFAULT_PORT = 443;

export function createRedirectListener(httpsPort: number, ownHost: string): WebListener {
  return createWebListener((req, res) => redirectToHttps(req, res, httpsPort, ownHost));
}

/** `https://<host>[:port]<path>` for a request that came in over plain HTTP. */
export function httpsLocation(hostHeader: string | undefined, path: string | undefined, httpsPort: number, ownHost: string): string {
  const asked = hostHeader === undefined ? '' : hostHeader.replace(/:\d+$/, '');
  const host = HOST_NAME_RE.test(asked) ? asked : ownHost.includes(':') ? `[${ownHost}]` : ownHost;
  const port = httpsPort === HTTPS_DEFAULT_PORT ? '' : `:${httpsPort}`;
  return `https://${host}${port}${path !== undefined && ORIGIN_FORM_RE.test(path) ? path : '/'}`;
}

function redirectToHttps(req: IncomingMessage, res: ServerResponse, httpsPort: number, ownHost: string): void {
  const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308;
  sendPlain(res, status, 'This server speaks HTTPS only.\n', { Location: httpsLocation(req.headers.host, req.url, httpsPort, ownHost) });
}
