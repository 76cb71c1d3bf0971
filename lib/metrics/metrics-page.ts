/**
 * `GET /metrics`: the Prometheus text format, registered on the web server by
 * daemon.ts. Who may read it:
 *
 *   a client on this machine (a loopback address, or the server's own address
 *   the web server listens on: a scraper on the host itself) → 200
 *   a logged-in admin of `/` (`loncapad site grant / <user>:<domain> admin`) → 200
 *   anyone else → 403
 *
 * The figures are operators' business (peer names, queue depths, failure
 * counts), as on `/status/`; a scraper on the host needs no session.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { partiesOf, type PageHandler, type RequestEnv, type SiteMap } from '../web';

export interface MetricsPageOptions {
  render(): Promise<{ contentType: string; text: string }>;
  /** May this logged-in user (`<user>:<domain>`) read the metrics? */
  isAdmin(userId: string): boolean;
}

export function metricsPage(options: MetricsPageOptions): PageHandler {
  return async (req: IncomingMessage, res: ServerResponse, env: RequestEnv): Promise<void> => {
    const allowed = isSameMachine(env.clientAddress, req.socket.localAddress) || (env.userId !== null && options.isAdmin(env.userId));
    if (!allowed) {
      const body = '403 Forbidden: /metrics is for this machine and for admins of /\n';
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    const { contentType, text } = await options.render();
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}

/** Admins of the root node `/` (a grant there, or inherited: the same rule as `/status/`). */
export function rootAdmins(siteMap: SiteMap): (userId: string) => boolean {
  return (userId) => {
    const root = siteMap.resolve('/');
    return root.kind === 'node' && siteMap.isAllowed(root.node, partiesOf(userId), 'admin');
  };
}

/**
 * Did the connection come from this machine? A loopback address, or the very
 * address it reached (a TCP client cannot present our own address as its
 * source from elsewhere: the replies would never reach it).
 */
export function isSameMachine(remote: string | undefined, local: string | undefined): boolean {
  if (remote === undefined || remote === '') return false;
  const plain = remote.startsWith('::ffff:') && isIP(remote.slice(7)) === 4 ? remote.slice(7) : remote;
  if (plain === '::1' || (isIP(plain) === 4 && plain.startsWith('127.'))) return true;
  const own = local?.startsWith('::ffff:') ? local.slice(7) : local;
  return own !== undefined && plain === own;
}
