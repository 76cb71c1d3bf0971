/**
 * The front page (shipped package `front`, served at / while nothing is
 * mounted there and the site has no `www/index.*` of its own): what this
 * server is, where to log in, and, for a logged-in user, who she is, her
 * home server and her roles, asked of her home server over the network.
 * Login lands here unless it was sent from elsewhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUnreachable } from '../../../../errors';
import { escapeHtml } from '../../../html';
import { sendPage } from '../../../page-layout';
import { splitUserId } from '../../../permissions';
import type { RequestEnv, UserProfile } from '../../../request-env';
import { roleEntries } from '../../../role-list';

const ROLE_MEANING: Readonly<Record<string, string>> = {
  library: 'a library server: it keeps its users’ records and its authors’ resources',
  access: 'an access server: it hosts users’ sessions; their records live on library servers',
};

export default async function frontPage(_req: IncomingMessage, res: ServerResponse, env: RequestEnv): Promise<void> {
  const about = env.server.about();
  const you = env.userId === null ? anonymousPart() : await userPart(env, env.userId);
  const main = `<h1>Server ${escapeHtml(about.lonid)}</h1>
<p class="hint">One server of a LON-CAPA network: the servers of the network share their users, courses and resources,
and each user lives on one library server of her institution, her <em>home server</em>.</p>
<dl class="facts" id="server">
<dt>Server</dt><dd>${escapeHtml(about.lonid)}</dd>
<dt>Institution (domain)</dt><dd>${escapeHtml(about.domain)}</dd>
<dt>Role</dt><dd>${escapeHtml(about.role)} <span class="muted">(${escapeHtml(ROLE_MEANING[about.role] ?? 'unknown role')})</span></dd>
<dt>Host name</dt><dd>${escapeHtml(about.hostname)}</dd>
<dt>Version</dt><dd>loncapad ${escapeHtml(about.version)}</dd>
</dl>
${you}
<ul class="links">
<li><a href="/status/">Server status</a> <span class="muted">(for the people who run this server)</span></li>
</ul>`;
  sendPage(res, 200, { title: `Server ${about.lonid}`, main });
}

function anonymousPart(): string {
  return `<h2>You</h2>\n<p>You are not logged in. <a href="/login/">Log in</a> with the account of your institution.</p>`;
}

async function userPart(env: RequestEnv, userId: string): Promise<string> {
  const { user, domain } = splitUserId(userId);
  const head = `<h2>You</h2>\n<dl class="facts" id="you">\n<dt>User</dt><dd>${escapeHtml(user)}</dd>\n<dt>Institution (domain)</dt><dd>${escapeHtml(domain)}</dd>\n`;
  const logout = `<p><a href="/logout/">Log out</a></p>`;
  let profile: UserProfile | undefined;
  try {
    profile = await env.auth.profile(user, domain);
  } catch (err) {
    if (!isUnreachable(err)) throw err;
    return `${head}</dl>\n<p class="notice" id="home-unreachable">Your home server cannot be reached just now, so your roles
cannot be shown. Your work is not lost; please try again in a minute.</p>\n${logout}`;
  }
  if (profile === undefined) {
    return `${head}</dl>\n<p class="notice">No server of your institution claims your account any more. Ask the people who run it.</p>\n${logout}`;
  }
  return `${head}<dt>Home server</dt><dd>${escapeHtml(profile.home)}</dd>\n</dl>\n<h2>Your roles</h2>\n${rolesTable(profile.roles)}\n${logout}`;
}

function rolesTable(roles: Readonly<Record<string, string>>): string {
  const entries = roleEntries(roles, Math.floor(Date.now() / 1000));
  if (entries.length === 0) return '<p id="roles">You have no roles yet: an instructor or coordinator gives them (a course, a section, authoring).</p>';
  const date = (s: number | null): string => (s === null ? '—' : new Date(s * 1000).toISOString().slice(0, 10));
  const rows = entries.map(
    (r) =>
      `<tr><td>${escapeHtml(r.role)}</td><td>${escapeHtml(r.where)}</td><td>${date(r.start)}</td><td>${date(r.end)}</td>` +
      `<td>${r.active ? 'active' : 'not active now'}</td></tr>`,
  );
  return `<table id="roles"><thead><tr><th>Role</th><th>Where</th><th>From</th><th>Until</th><th></th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table>`;
}
