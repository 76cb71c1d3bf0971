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
 * echoed back into the form. The domain is a choice among the domains of the
 * hosts table (a text field only when the server knows none), with a sentence
 * saying what it is: her institution.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { readFormBody } from '../../../form-body';
import { escapeHtml } from '../../../html';
import { LOG_IN_HERE, sendOverloaded } from '../../../login-offload';
import { sendPage } from '../../../page-layout';
import type { RequestEnv } from '../../../request-env';
import { sendStatus } from '../../../responses';
import { safeReturnUrl } from '../../../return-url';

/** A login form is a few short fields. */
const MAX_LOGIN_FORM_BYTES = 8 * 1024;

export default async function loginPage(req: IncomingMessage, res: ServerResponse, env: RequestEnv): Promise<void> {
  if (env.method !== 'POST') {
    const returnUrl = safeReturnUrl(new URLSearchParams(env.query).get('return_url'));
    return sendForm(res, 200, env, { returnUrl, domain: '' }, '');
  }
  if (!sameOrigin(req)) {
    // Login CSRF: another site's form would log the visitor in as someone else.
    env.log('warn', `web login refused: cross-site form from ${String(req.headers.origin).slice(0, 100)}`);
    return sendPage(res, 403, {
      title: 'Log in from this site',
      main: '<h1>Log in from this site</h1>\n<p>This login form was sent from another web site. Log in from <a href="/login/">this site’s own form</a>.</p>',
    });
  }
  const body = await readFormBody(req, MAX_LOGIN_FORM_BYTES);
  if (!body.ok) return sendStatus(res, body.status);
  const form = body.fields;
  const fields = { returnUrl: safeReturnUrl(form.get('return_url')), domain: form.get('domain') ?? '' };
  const check = await env.checkPassword(form.get('user') ?? '', fields.domain, form.get('password') ?? '');
  switch (check.kind) {
    case 'accepted': {
      const offload = env.auth.offload;
      const placement = offload ? await offload.place() : LOG_IN_HERE;
      if (placement.kind === 'overloaded') {
        env.log('warn', `web login ${check.user}:${check.domain}: overloaded and no spare available`);
        return sendOverloaded(res, placement.retryAfterS);
      }
      const location = placement.kind === 'spare' ? offload!.handOver({ ...check, returnUrl: fields.returnUrl }, placement.spare) : fields.returnUrl;
      if (placement.kind === 'spare') env.log('info', `web login ${check.user}:${check.domain}: handed over to spare ${placement.spare}`);
      else env.login(res, check);
      res.writeHead(302, { Location: location, 'Content-Length': 0 });
      res.end();
      return;
    }
    case 'refused':
      return sendForm(res, 200, env, fields, 'Unknown user, domain or password.');
    case 'throttled':
      return sendForm(res, 429, env, fields, throttledMessage(check.scope, check.retryAfterS), { 'Retry-After': String(check.retryAfterS) });
    case 'unavailable':
      return sendForm(res, 503, env, fields, 'Your home server cannot be reached just now. Please try again later.');
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

/**
 * What the form keeps after a refusal: where to go, and the domain chosen.
 * Never the password, and not the user name either, so that an unknown user
 * and a wrong password answer the very same page.
 */
interface FormFields {
  readonly returnUrl: string;
  readonly domain: string;
}

function sendForm(
  res: ServerResponse,
  status: number,
  env: RequestEnv,
  fields: FormFields,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const about = env.server.about();
  const who = env.userId === null ? '' : `<p>You are logged in as ${escapeHtml(env.userId)}. <a href="/logout/">Log out</a></p>\n`;
  const notice = message === '' ? '' : `<p class="error" role="alert">${escapeHtml(message)}</p>\n`;
  const main = `<h1>Log in</h1>
<p class="hint">Log in to server ${escapeHtml(about.lonid)} with the account your institution gave you.</p>
${who}${notice}<form class="login" method="post" action="${escapeHtml(env.packageUrl)}">
<input type="hidden" name="return_url" value="${escapeHtml(fields.returnUrl)}">
<label for="user">User name</label>
<input id="user" name="user" autocomplete="username" autocapitalize="none" required>
<label for="domain">Domain</label>
${domainField(about.domains, fields.domain || about.domain)}
<p class="hint" id="domain-hint">Your domain is your institution: each institution of this network has its own domain, and your account belongs to one of them.</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>`;
  sendPage(res, status, { title: 'Log in', main }, headers);
}

/** A choice of the network's domains; a text field when the server knows none. */
function domainField(domains: readonly string[], chosen: string): string {
  if (domains.length === 0) {
    return `<input id="domain" name="domain" value="${escapeHtml(chosen)}" aria-describedby="domain-hint" required>`;
  }
  const options = domains.map((d) => `<option${d === chosen ? ' selected' : ''}>${escapeHtml(d)}</option>`);
  return `<select id="domain" name="domain" aria-describedby="domain-hint" required>\n${options.join('\n')}\n</select>`;
}
