/** A minimal status page (package `status`): is the web side up, and how busy is it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestEnv } from '../../../request-env';

export default function statusPage(_req: IncomingMessage, res: ServerResponse, env: RequestEnv): void {
  const uptimeS = Math.floor((env.startTime - env.server.startedAt) / 1000);
  const text =
    `loncapad web: ok\n` +
    `requests: ${env.requestCount}\n` +
    `active sessions: ${env.server.activeSessions()}\n` +
    `uptime: ${uptimeS} s\n`;
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
