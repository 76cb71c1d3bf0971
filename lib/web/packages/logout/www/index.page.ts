/**
 * The logout page (package `logout`, mounted at /logout/ by default): ends
 * the session (revoked, cookie cleared), then 302 to `return_url` if it is a
 * path on this site, else '/'.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestEnv } from '../../../request-env';
import { safeReturnUrl } from '../../../return-url';

export default function logoutPage(_req: IncomingMessage, res: ServerResponse, env: RequestEnv): void {
  env.logout(res);
  res.writeHead(302, {
    Location: safeReturnUrl(new URLSearchParams(env.query).get('return_url')),
    'Content-Length': 0,
  });
  res.end();
}
