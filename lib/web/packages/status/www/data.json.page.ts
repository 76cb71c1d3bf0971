/**
 * `/status/data.json`: the status page's data (`StatusPageData`) for its
 * refreshing script and for scripts of operators. Admins of / only, as the
 * whole status package.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestEnv } from '../../../request-env';

export default function statusData(_req: IncomingMessage, res: ServerResponse, env: RequestEnv): void {
  const body = JSON.stringify(env.server.status());
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}
