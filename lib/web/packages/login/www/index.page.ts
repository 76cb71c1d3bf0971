/**
 * The login page (package `login`, mounted at /login/ by default).
 *
 *   GET   the form; `return_url` from the query is carried in a hidden field
 *   POST  user, domain, password (form-encoded) → WebAuth.authenticate (the
 *         daemon asks the user's home server) → new session → 302 to
 *         return_url if it is a path on this site, else '/'
 *
 * The password is only ever read from a POST body, and is never logged or
 * echoed back into the form.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoncapadError, type ErrorCode } from '../../../../errors';
import { readFormBody } from '../../../form-body';
import { escapeHtml } from '../../../html';
import { LOG_IN_HERE, sendOverloaded } from '../../../login-offload';
import { userParty } from '../../../permissions';
import type { RequestEnv } from '../../../request-env';
import { safeReturnUrl } from '../../../return-url';

/** Failures of `authenticate` that mean "try again later", not "wrong password". */
const UNREACHABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['LC_ERR_PEER_DOWN', 'LC_ERR_TIMEOUT']);

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
  const user = form.get('user') ?? '';
  const domain = form.get('domain') ?? '';
  const password = form.get('password') ?? '';
  const returnUrl = safeReturnUrl(form.get('return_url'));
  const party = userParty(user, domain);
  const wellFormed = party !== undefined && password !== '';
  // Load balancing: an overloaded server hands new logins to a spare (login-offload.ts).
  const placement = wellFormed && env.auth.offload ? await env.auth.offload.place() : LOG_IN_HERE;
  if (placement.kind === 'overloaded') {
    env.log('warn', `web login ${party}: overloaded and no spare available`);
    return sendOverloaded(res, placement.retryAfterS);
  }
  let accepted = false;
  if (wellFormed) {
    try {
      accepted = await env.auth.authenticate(user, domain, password);
    } catch (err) {
      // The user's home server could not answer: say so rather than "wrong password".
      if (!(err instanceof LoncapadError) || !UNREACHABLE.has(err.code)) throw err;
      env.log('warn', `web login ${party}: home server unavailable (${err.code})`);
      return sendForm(res, 503, env, returnUrl, 'Your home server cannot be reached just now. Please try again later.');
    }
  }
  if (!accepted) {
    env.log('info', `web login refused for ${party ?? 'a malformed name'}`);
    return sendForm(res, 200, env, returnUrl, 'Unknown user, domain or password.');
  }
  if (placement.kind === 'spare') {
    env.log('info', `web login ${party}: handed over to spare ${placement.spare}`);
    res.writeHead(302, { Location: env.auth.offload!.handOver({ user, domain, returnUrl }, placement.spare), 'Content-Length': 0 });
    res.end();
    return;
  }
  env.login(res, user, domain);
  res.writeHead(302, { Location: returnUrl, 'Content-Length': 0 });
  res.end();
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

function sendForm(res: ServerResponse, status: number, env: RequestEnv, returnUrl: string, message: string): void {
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
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}
