/**
 * `/login/offload?token=…&from=<issuer>`: a login handed over by an
 * overloaded server (login-offload.ts). The token is redeemed with the
 * issuing server over the peer link; it works once, for this host, for a
 * minute. No password is asked for or seen here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml } from '../../../html';
import type { RequestEnv } from '../../../request-env';
import { safeReturnUrl } from '../../../return-url';

const LONCAPAD_ID_RE = /^[A-Za-z0-9_.-]{1,255}$/;

export default async function offloadPage(_req: IncomingMessage, res: ServerResponse, env: RequestEnv): Promise<void> {
  const query = new URLSearchParams(env.query);
  const token = query.get('token') ?? '';
  const from = query.get('from') ?? '';
  const offload = env.auth.offload;
  const grant = offload && LONCAPAD_ID_RE.test(from) && token !== '' ? await offload.redeem(token, from) : undefined;
  if (grant === undefined) {
    env.log('warn', `web login hand-over from ${from.slice(0, 64)} refused: token not valid`);
    const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Log in</title></head><body>
<h1>Please log in again</h1>
<p>This login link has expired or has already been used.</p>
<p><a href="${escapeHtml(env.packageUrl)}">Log in</a></p>
</body></html>
`;
    res.writeHead(403, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    res.end(html);
    return;
  }
  env.login(res, grant);
  env.log('info', `web login ${grant.user}:${grant.domain} taken over from ${from}`);
  res.writeHead(302, { Location: safeReturnUrl(grant.returnUrl), 'Content-Length': 0 });
  res.end();
}
