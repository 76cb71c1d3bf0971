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
import type { AcceptedLogin } from './login-gate';

export type LoginPlacement =
  | { readonly kind: 'here' }
  | { readonly kind: 'spare'; readonly spare: string }
  | { readonly kind: 'overloaded'; readonly retryAfterS: number };

/** A login handed over: who (with her auth token as her home answered it) and where she was going. */
export interface LoginGrant extends AcceptedLogin {
  readonly returnUrl: string;
}

export interface LoginOffload {
  /** Where a login arriving now should happen. */
  place(): Promise<LoginPlacement>;
  /** The URL on `spare` that logs this (already authenticated) user in there. */
  handOver(grant: LoginGrant, spare: string): string;
  /** Redeem a token issued for this host by `from`; undefined when it is not valid (any more). */
  redeem(token: string, from: string): Promise<LoginGrant | undefined>;
}

export const LOG_IN_HERE: LoginPlacement = { kind: 'here' };

/** Every spare is overloaded or unreachable too. */
export function sendOverloaded(res: ServerResponse, retryAfterS: number): void {
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Server busy</title></head><body>
<h1>This server is busy</h1>
<p>Too many people are working on this server and its spare servers just now, so no new logins
are accepted for the moment. Please try again in a few minutes; if you are already logged in,
you can go on working.</p>
</body></html>
`;
  res.writeHead(503, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Retry-After': String(retryAfterS),
    'Cache-Control': 'no-store',
  });
  res.end(html);
}
