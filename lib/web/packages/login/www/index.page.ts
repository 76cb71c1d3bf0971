/**
 * The login page (package `login`, mounted at /login/ by default).
 *
 *   GET   the form; `return_url` from the query is carried in a hidden field
 *   POST  user, domain, password (form-encoded) → env.checkPassword (throttled;
 *         the daemon asks the user's home server) →
 *           accepted     new session → 302 to return_url if it is a path on
 *                        this site, else '/'; a busy server with spares
 *                        sends her to a spare instead, or answers 503
 *                        when none can take her (login-offload.ts)
 *           refused      the form again (200)
 *           throttled    the form with the wait (429, Retry-After)
 *           unavailable  the form, "try again later" (503)
 *
 * The password is only ever read from a POST body, and is never logged or
 * echoed back into the form.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { readFormBody } from '../../../form-body';
import { escapeHtml } from '../../../html';
import { LOG_IN_HERE, sendOverloaded } from '../../../login-offload';
import type { RequestEnv } from '../../../request-env';
import { safeReturnUrl } from '../../../return-url';

/** A login form is a few short fields. */
const MAX_LOGIN_FORM_BYTES = 8 * 1024;

export default async function loginPage(req: IncomingMessage, res: ServerResponse, env: RequestEnv): Promise<void> {
  if (env.method !== 'POST') {
    const returnUrl = safeReturnUrl(new URLSearchParams(env.query).get('return_url'));
    return sendForm(res, 200, env, returnUrl, '');
  }
  if (!sameOrigin(req)) {
    // Login CSRF: another site's form would log the visitor in as someone else.
    env.log('warn', `web login refused: cross-site form from ${String(req.headers.origin).slice(0, 100)}`);
    res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Log in from this site\'s own form.\n');
    return;
  }
  const body = await readFormBody(req, MAX_LOGIN_FORM_BYTES);
  if (!body.ok) {
    res.writeHead(body.status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body.status === 413 ? 'Form too large\n' : 'Send the form as application/x-www-form-urlencoded\n');
    return;
  }
  const form = body.fields;
  const returnUrl = safeReturnUrl(form.get('return_url'));
  const check = await env.checkPassword(form.get('user') ?? '', form.get('domain') ?? '', form.get('password') ?? '');
  switch (check.kind) {
    case 'accepted': {
      const offload = env.auth.offload;
      const placement = offload ? await offload.place() : LOG_IN_HERE;
      if (placement.kind === 'overloaded') {
        env.log('warn', `web login ${check.user}:${check.domain}: overloaded and no spare available`);
        return sendOverloaded(res, placement.retryAfterS);
      }
      const location = placement.kind === 'spare' ? offload!.handOver({ ...check, returnUrl }, placement.spare) : returnUrl;
      if (placement.kind === 'spare') env.log('info', `web login ${check.user}:${check.domain}: handed over to spare ${placement.spare}`);
      else env.login(res, check);
      res.writeHead(302, { Location: location, 'Content-Length': 0 });
      res.end();
      return;
    }
    case 'refused':
      return sendForm(res, 200, env, returnUrl, 'Unknown user, domain or password.');
    case 'throttled':
      return sendForm(res, 429, env, returnUrl, throttledMessage(check.scope, check.retryAfterS), { 'Retry-After': String(check.retryAfterS) });
    case 'unavailable':
      return sendForm(res, 503, env, returnUrl, 'Your home server cannot be reached just now. Please try again later.');
  }
}

function throttledMessage(scope: 'account' | 'source', retryAfterS: number): string {
  const wait = retryAfterS < 120 ? `${retryAfterS} second${retryAfterS === 1 ? '' : 's'}` : `${Math.ceil(retryAfterS / 60)} minutes`;
  const what = scope === 'account' ? 'for this account from your address' : 'from your address';
  return `Too many failed logins ${what}. Please wait ${wait} before trying again.`;
}

/**
 * Browsers send Origin with every POST; a form from another site names that
 * site. Clients that send no Origin (curl, scripts) are not browsers and
 * cannot be driven by another site.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false; // `Origin: null` (sandboxed frames, some redirects) is not this site
  }
}

function sendForm(
  res: ServerResponse,
  status: number,
  env: RequestEnv,
  returnUrl: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const who = env.userId === null ? '' : `<p>You are logged in as ${escapeHtml(env.userId)}.</p>\n`;
  const notice = message === '' ? '' : `<p class="error">${escapeHtml(message)}</p>\n`;
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Log in</title></head><body>
<h1>Log in</h1>
${who}${notice}<form method="post" action="${escapeHtml(env.packageUrl)}">
<input type="hidden" name="return_url" value="${escapeHtml(returnUrl)}">
<p><label>User <input name="user" autocomplete="username" required></label></p>
<p><label>Domain <input name="domain" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p>
</form></body></html>
`;
  res.writeHead(status, { ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}
