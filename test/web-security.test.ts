/**
 * Sessions, login and logout, permissions and admin pages, through real HTTP
 * requests to a running WebServer.
 */
import t from 'tap';
import { errorPage } from '../lib/web/error-pages';
import { renderPage } from '../lib/web/page-layout';
import { sendStatus } from '../lib/web/responses';
import { sessionCookie, startWeb, type WebHarness } from './fixtures/web/harness';
import { demoSite, type EchoedEnv } from './fixtures/web/site';

const HOST = '127.0.4.3';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const XHR = { 'X-Requested-With': 'XMLHttpRequest' };

async function site(t: tap.Test): Promise<WebHarness> {
  const h = await startWeb(t, HOST, demoSite(t));
  const map = h.server.siteMap;
  map.mount('/demo/', 'demo');
  map.grant('/demo/', 'bob:dom1', 'admin');
  map.mount('/private/', 'private', { inherit: false });
  map.grant('/private/', 'alice:dom1', 'read');
  return h;
}

function postLogin(h: WebHarness, fields: Record<string, string>, cookie?: string) {
  return h.request('/login/', {
    method: 'POST',
    headers: { ...FORM, ...(cookie === undefined ? {} : { Cookie: cookie }) },
    body: new URLSearchParams(fields).toString(),
  });
}

t.test('a protected package: login redirect, 403, or the page', async (t) => {
  const h = await site(t);
  const anonymous = await h.get('/private/');
  t.equal(anonymous.status, 302);
  t.equal(anonymous.headers.location, '/login/?return_url=%2Fprivate%2F');
  const missing = await h.get('/private/no/such/file?x=1');
  t.equal(missing.status, 302, 'a missing protected file is not a 404');
  t.equal(missing.headers.location, '/login/?return_url=%2Fprivate%2Fno%2Fsuch%2Ffile%3Fx%3D1');
  const xhr = await h.get('/private/', XHR);
  t.equal(xhr.status, 403, 'scripts get 403, not a login page');
  t.equal(xhr.body, renderPage(errorPage(403)));

  const carol = await h.login('carol', 'dom2', 'carol-pw');
  t.equal((await h.get('/private/', { Cookie: carol })).status, 403, 'logged in without a grant');
  t.equal((await h.get('/private/missing', { Cookie: carol })).status, 403);
  const alice = await h.login('alice', 'dom1', 'alice-pw');
  const page = await h.get('/private/', { Cookie: alice });
  t.equal(page.status, 200);
  t.equal(page.body, 'private index\n');
  t.equal((await h.get('/private/missing', { Cookie: alice })).status, 404);
  const file = await h.get('/private/file.txt', { Cookie: alice });
  t.equal(file.headers['cache-control'], 'private, no-cache', 'kept out of shared caches');
  t.equal((await h.get('/hello.html')).headers['cache-control'], 'no-cache');
});

t.test('admin pages need login and admin, whatever the case of "admin"', async (t) => {
  const h = await site(t);
  t.equal((await h.get('/demo/admin/')).headers.location, '/login/?return_url=%2Fdemo%2Fadmin%2F');
  t.equal((await h.get('/demo/ADMIN/x')).status, 302);
  t.equal((await h.get('/demo/admin')).status, 302, '"admin" without the slash too');
  t.equal((await h.get('/demo/administer')).status, 404, 'only the admin segment');
  const alice = await h.login('alice', 'dom1', 'alice-pw');
  t.equal((await h.get('/demo/admin/', { Cookie: alice })).status, 403);
  t.equal((await h.get('/demo/Admin/', { Cookie: alice })).status, 403);
  const bob = await h.login('bob', 'dom1', 'bob-pw');
  const admin = await h.get('/demo/admin/', { Cookie: bob });
  t.equal(admin.status, 200);
  t.equal(admin.body, 'demo admin\n');

  h.server.siteMap.grant('/demo/', 'public', 'admin');
  t.equal((await h.get('/demo/admin/')).status, 302, 'a public admin grant does not open admin pages to anonymous users');
  t.equal((await h.get('/demo/admin/', { Cookie: alice })).status, 200, 'but applies to logged-in users');
});

t.test('a failing page shows its stack to admins only', async (t) => {
  const h = await site(t);
  const alice = await h.login('alice', 'dom1', 'alice-pw');
  const bob = await h.login('bob', 'dom1', 'bob-pw');
  t.equal((await h.get('/demo/boom', { Cookie: alice })).body, renderPage(errorPage(500)));
  const forAdmin = await h.get('/demo/boom', { Cookie: bob });
  t.equal(forAdmin.status, 500);
  t.match(forAdmin.body, /<h1>Something went wrong on this server<\/h1>[^]*<pre class="detail">Error: page exploded\n {4}at /);
  t.equal(h.logs.filter((l) => l.startsWith('error web /demo/boom: Error: page exploded')).length, 2);
});

t.test('login: form, refusal, success with return_url, rotation', async (t) => {
  const h = await site(t);
  const form = await h.get('/login/?return_url=%2Fprivate%2F%3Fa%3D1');
  t.equal(form.status, 200);
  t.match(form.body, '<input type="hidden" name="return_url" value="/private/?a=1">');
  t.match(form.body, '<form class="login" method="post" action="/login/">');
  const hostile = await h.get('/login/?return_url=%22%3E%3Cscript%3E');
  t.match(hostile.body, 'name="return_url" value="/"', 'not a same-site path: replaced, never echoed');

  const refused = await postLogin(h, { user: 'alice', domain: 'dom1', password: 'wrong', return_url: '/private/' });
  t.equal(refused.status, 200);
  t.match(refused.body, 'Unknown user, domain or password.');
  t.equal(refused.headers['set-cookie'], undefined);
  const malformed = await postLogin(h, { user: 'al:ice', domain: 'dom1', password: 'x' });
  t.match(malformed.body, 'Unknown user, domain or password.');
  t.same(h.auth.asked, ['alice:dom1'], 'a malformed name never reaches the home server');

  const ok = await postLogin(h, { user: 'alice', domain: 'dom1', password: 'alice-pw', return_url: '/private/?a=1' });
  t.equal(ok.status, 302);
  t.equal(ok.headers.location, '/private/?a=1');
  t.match(ok.headers['set-cookie']?.[0], /^lc_session=v2\.[^;]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/);
  const cookie = sessionCookie(ok);
  t.equal((await h.get('/private/', { Cookie: cookie })).status, 200);

  const first = JSON.parse((await h.get('/demo/echo', { Cookie: cookie })).body) as EchoedEnv;
  t.match(first, { userId: 'alice:dom1', authLevel: 'ok' });
  t.ok(first.sessionId > 0);
  const again = await postLogin(h, { user: 'alice', domain: 'dom1', password: 'alice-pw' }, cookie);
  const second = JSON.parse((await h.get('/demo/echo', { Cookie: sessionCookie(again) })).body) as EchoedEnv;
  t.not(second.sessionId, first.sessionId, 'login rotates the session id');
  t.equal((await h.get('/private/', { Cookie: cookie })).status, 302, 'and the old session is gone');

  t.notMatch(h.logs.join('\n'), 'alice-pw', 'passwords never reach the log');
  t.ok(h.logs.some((l) => /^info web login alice:dom1 session \d+ from 127\.0\.0\.1$/.test(l)), 'logins are logged, with the address');
});

t.test('login only returns to paths on this site', async (t) => {
  const h = await site(t);
  for (const [returnUrl, location] of [
    ['http://evil.example/', '/'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['/ok/path?x=1', '/ok/path?x=1'],
    ['', '/'],
  ]) {
    const r = await postLogin(h, { user: 'bob', domain: 'dom1', password: 'bob-pw', return_url: returnUrl! });
    t.equal(r.headers.location, location, JSON.stringify(returnUrl));
  }
});

t.test('login refuses oversized or non-form bodies', async (t) => {
  const h = await site(t);
  const big = await postLogin(h, { user: 'bob', domain: 'dom1', password: 'x'.repeat(9000) });
  t.equal(big.status, 413);
  const json = await h.request('/login/', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  t.equal(json.status, 415);
});

t.test('an unreachable home server is a 503, not a wrong password', async (t) => {
  const { LoncapadError } = await import('../lib/errors');
  const h = await startWeb(t, HOST, demoSite(t), {
    auth: {
      authenticate: async () => Promise.reject(new LoncapadError('LC_ERR_PEER_DOWN', 'home server down')),
      authToken: async () => Promise.reject(new LoncapadError('LC_ERR_PEER_DOWN', 'home server down')),
      profile: async () => Promise.reject(new LoncapadError('LC_ERR_PEER_DOWN', 'home server down')),
    },
  });
  const r = await postLogin(h, { user: 'alice', domain: 'dom1', password: 'alice-pw' });
  t.equal(r.status, 503);
  t.match(r.body, 'Your home server cannot be reached just now.');
  t.ok(h.logs.includes('warn web login alice:dom1: home server unavailable (LC_ERR_PEER_DOWN)'));
});

t.test('logout clears and revokes the session', async (t) => {
  const h = await site(t);
  const alice = await h.login('alice', 'dom1', 'alice-pw');
  t.equal(h.server.activeSessions(), 1);
  const out = await h.get('/logout/?return_url=%2Fhello', { Cookie: alice });
  t.equal(out.status, 302);
  t.equal(out.headers.location, '/hello');
  t.same(out.headers['set-cookie'], ['lc_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
  t.equal(h.server.activeSessions(), 0);
  const replay = await h.get('/private/', { Cookie: alice });
  t.equal(replay.status, 302, 'a copy of the old cookie no longer works');
  t.same(replay.headers['set-cookie'], ['lc_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
  t.equal((await h.get('/logout/')).headers.location, '/', 'logging out anonymously is harmless');
});

t.test('a bad cookie means anonymous, never an error', async (t) => {
  const h = await site(t);
  const alice = await h.login('alice', 'dom1', 'alice-pw');
  const [name, value] = alice.split('=') as [string, string];
  const forged = value.replace('.' + Buffer.from('alice:dom1').toString('base64url') + '.', '.' + Buffer.from('bob:dom1').toString('base64url') + '.');
  for (const cookie of [`${name}=${forged}`, `${name}=garbage`, `${name}=`, `${name}=${value.slice(0, -3)}`]) {
    const page = await h.get('/demo/echo', { Cookie: cookie });
    t.equal(page.status, 200, cookie);
    t.match(JSON.parse(page.body), { userId: null, sessionId: 0, authLevel: 'none' });
    t.same(page.headers['set-cookie'], ['lc_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax']);
    t.equal((await h.get('/private/', { Cookie: cookie })).status, 302);
  }
  t.equal((await h.get('/demo/echo', { Cookie: 'unrelated=1' })).headers['set-cookie'], undefined);
});

t.test('grants and mounts change live', async (t) => {
  const h = await site(t);
  const map = h.server.siteMap;
  t.equal((await h.get('/private/')).status, 302);
  map.grant('/private/', 'public', 'read');
  t.equal((await h.get('/private/')).status, 200);
  map.revoke('/private/', 'public', 'read');
  t.equal((await h.get('/private/')).status, 302);
  map.mount('/private/', 'private', { inherit: true });
  t.equal((await h.get('/private/')).status, 200, 'inheriting the public read of /');

  t.equal(map.revoke('/', 'public', 'read'), true);
  t.equal((await h.get('/hello')).status, 302, 'a closed site');
  t.equal((await h.get('/login/')).status, 200, 'still lets users log in');
  const carol = await h.login('carol', 'dom2', 'carol-pw');
  t.equal((await h.get('/hello', { Cookie: carol })).status, 403);
  map.grant('/', 'registered', 'read');
  t.equal((await h.get('/hello', { Cookie: carol })).status, 200, 'open to registered users');
  t.equal((await h.get('/hello')).status, 302);
});

t.test('the status page, for admins of / only, and activeSessions()', async (t) => {
  const h = await site(t);
  const alice = await h.login('alice', 'dom1', 'alice-pw');
  const bob = await h.login('bob', 'dom1', 'bob-pw');
  t.equal((await h.get('/status/')).headers.location, '/login/?return_url=%2Fstatus%2F');
  t.equal((await h.get('/status/', { Cookie: alice })).status, 403, 'not an admin of /');
  h.server.siteMap.grant('/', 'bob:dom1', 'admin');
  const status = await h.get('/status/', { Cookie: bob });
  t.equal(status.status, 200);
  t.match(status.body, 'port ' + h.server.port + ', plain HTTP, 5 requests');
  t.match(status.body, '<span id="sessions">2</span> active');
  t.equal(h.server.activeSessions(), 2);
});

t.test('sendStatus answers an error page that cannot be cached', async (t) => {
  const h = await site(t);
  h.server.registerHandler('/teapot', (_req, res) => sendStatus(res, 418));
  const r = await h.get('/teapot');
  t.equal(r.status, 418);
  t.equal(r.body, renderPage(errorPage(418)));
  t.match(r.body, '<p class="status">418 I&#39;m a Teapot</p>');
  t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(r.headers['cache-control'], 'no-store');
});
