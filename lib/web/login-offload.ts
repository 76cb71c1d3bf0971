/**
 * Load balancing at login (classic: the login handler offloads to a spare),
 * as the login pages see it. The daemon provides the `LoginOffload`; a web
 * server without one logs everyone in where they are.
 *
 *   POST /login/, the password checked as usual (throttle, home server), then
 *     place() ─▶ 'here'        log in here as usual
 *             ─▶ 'overloaded'  no spare qualifies: 503, Retry-After, no session
 *             ─▶ spare         302 to the spare with a single-use token, no
 *                              session here
 *   GET /login/offload?token=…&from=<issuer> on the spare
 *     redeem(token, from) over the peer link ─▶ session here ─▶ 302 return_url
 *
 * Only new logins move; existing sessions never do.
 */
import type { ServerResponse } from 'node:http';
import { sendPage } from './page-layout';
import type { LoginPlacement } from './web-auth';

export type { LoginGrant, LoginOffload, LoginPlacement } from './web-auth';

export const LOG_IN_HERE: LoginPlacement = { kind: 'here' };

/** Every spare is overloaded or unreachable too: the same look as every other error page. */
export function sendOverloaded(res: ServerResponse, retryAfterS: number): void {
  sendPage(
    res,
    503,
    {
      title: 'This server is busy',
      main:
        '<h1>This server is busy</h1>\n<p>Too many people are working on this server and its spare servers just now, so no ' +
        'new logins are accepted for the moment. Please try again in a few minutes; if you are already logged in, you can go on working.</p>',
    },
    { 'Retry-After': String(retryAfterS), 'Cache-Control': 'no-store' },
  );
}
