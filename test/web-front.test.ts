/**
 * The web front door, against real daemons (an access server serving the
 * web, the library server that is its users' home, and a host of another
 * institution in the hosts table): the front page says what the server is,
 * the login page offers the network's domains, a login lands on a page with
 * the user, her home server and her roles (asked over the network), and
 * every error page is a page a person understands, in the same look.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { errorPage } from '../lib/web/error-pages';
import { renderPage, STYLESHEET_URL } from '../lib/web/page-layout';
import { roleEntries } from '../lib/web/role-list';
import { ownPagePolicy } from '../lib/web/security-headers';
import { runCli } from './helpers/cli';
import { cookiesOf, http, type HttpReply } from './helpers/http';
import { makeNetwork, webPort } from './helpers/network';

const WEB_PORT = webPort(18700);
const ACC = '127.0.70.2';
const VERSION = (require('../../package.json') as { version: string }).version;
const ERRORS_MODULE = resolve(__dirname, '../lib/errors.js');

const get = (path: string, cookie?: string): Promise<HttpReply> => http(ACC, WEB_PORT, path, cookie ? { cookie } : {});
const login = (form: Record<string, string>): Promise<HttpReply> => http(ACC, WEB_PORT, '/login/', { form });

/** The parts every error page has: status, title, explanation, the stylesheet, the strict policy. */
function assertErrorPage(t: tap.Test, r: HttpReply, status: number, title: string, explanation: string): void {
  t.equal(r.status, status, `${status}: status`);
  t.match(r.body, `<h1>${title}</h1>`, `${status}: what went wrong`);
  t.match(r.body, explanation, `${status}: what to do`);
  t.match(r.body, `<link rel="stylesheet" href="${STYLESHEET_URL}">`, `${status}: the same look`);
  t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(r.headers['content-security-policy'], ownPagePolicy());
  t.equal(r.headers['x-frame-options'], 'DENY');
}

t.test('roles as people read them', async (t) => {
  const now = 1_800_000_000;
  t.same(
    roleEntries({ '/d1/c9/002_st': 'st_1700000000_1600000000', '/d1/_dc': 'dc_0_0', '/d1/c1_zz': 'zz__' + (now + 10) }, now),
    [
      { role: 'Domain coordinator', code: 'dc', where: '/d1', start: null, end: null, active: true },
      { role: 'zz', code: 'zz', where: '/d1/c1', start: now + 10, end: null, active: false },
      { role: 'Student', code: 'st', where: '/d1/c9/002', start: 1_600_000_000, end: 1_700_000_000, active: false },
    ],
    'names for the classic codes, sections kept, open ends, not yet begun, ended',
  );
});

t.test('the front door of a fresh site', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'acc', ip: ACC, role: 'access', domain: 'd1' },
    { id: 'lib', ip: '127.0.70.3', role: 'library', domain: 'd1' },
    { id: 'far', ip: '127.0.70.4', role: 'library', domain: 'd2' },
  ]);
  const site = join(net.dir, 'acc', 'site');
  for (const [key, code] of [
    ['boom', "module.exports = () => { throw new Error('page exploded'); };\n"],
    ['away', `const { LoncapadError } = require(${JSON.stringify(ERRORS_MODULE)});\nmodule.exports = () => { throw new LoncapadError('LC_ERR_PEER_DOWN', 'lib is down'); };\n`],
  ] as const) {
    mkdirSync(join(site, 'packages', key, 'www'), { recursive: true });
    writeFileSync(join(site, 'packages', key, 'www', 'index.page.js'), code);
  }
  const acc = await net.start('acc', ['--http-port', String(WEB_PORT)]);
  const lib = await net.start('lib', ['--managers', 'acc']); // acc makes the users on lib
  const c = await acc.client();
  t.teardown(() => c.close());
  const lonnet = new Lonnet(c);
  await lonnet.makeuser('lib', 'd1', 'amy', 'internal', 'amy pw');
  await lonnet.makeuser('lib', 'd1', 'bob', 'internal', 'bob pw');
  await lonnet.rolesput('lib', { domain: 'd1', name: 'admin' }, 'd1', 'amy', {
    '/d1/c101_st': 'st_0_0',
    '/d1/c202_ta': 'ta_4102444800_946684800',
  });
  for (const [url, key] of [['/boom/', 'boom'], ['/away/', 'away']]) {
    const r = await runCli(['site', 'mount', url!, key!, '--spool', acc.host.spool]);
    t.equal(r.code, 0, r.stderr);
  }

  t.test('/ says what this server is, and links to login and status', async (t) => {
    const r = await get('/');
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    t.equal(r.headers['content-security-policy'], ownPagePolicy());
    t.match(r.body, '<h1>Server acc</h1>');
    t.match(r.body, '<dt>Server</dt><dd>acc</dd>');
    t.match(r.body, '<dt>Institution (domain)</dt><dd>d1</dd>');
    t.match(r.body, '<dt>Role</dt><dd>access <span class="muted">(an access server');
    t.match(r.body, '<dt>Host name</dt><dd>acc.example.org</dd>');
    t.match(r.body, `<dt>Version</dt><dd>loncapad ${VERSION}</dd>`);
    t.match(r.body, 'You are not logged in. <a href="/login/">Log in</a>');
    t.match(r.body, '<a href="/status/">Server status</a>');
    t.match(r.body, `<link rel="stylesheet" href="${STYLESHEET_URL}">`);
  });

  t.test('one stylesheet, a static file of the login package', async (t) => {
    const r = await get(STYLESHEET_URL);
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'text/css; charset=utf-8');
    t.match(r.body, /^\/\* loncapad's own pages/);
    t.ok(r.headers.etag, 'served as a static file, with validators');
  });

  t.test('the login page offers the domains of the hosts table, and says what a domain is', async (t) => {
    const r = await get('/login/');
    t.equal(r.status, 200);
    t.match(
      r.body,
      '<select id="domain" name="domain" aria-describedby="domain-hint" required>\n<option selected>d1</option>\n<option>d2</option>\n</select>',
      "both domains; this server's own chosen",
    );
    t.match(r.body, 'Your domain is your institution');
    t.match(r.body, `<link rel="stylesheet" href="${STYLESHEET_URL}">`);
    t.match(r.body, '<form class="login" method="post" action="/login/">');
  });

  let amy = '';
  t.test('after login she lands on a page with her, her home server and her roles', async (t) => {
    const r = await login({ user: 'amy', domain: 'd1', password: 'amy pw' });
    t.equal(r.status, 302);
    t.equal(r.headers.location, '/', 'no return_url: the front page');
    amy = cookiesOf(r);
    const page = await get('/', amy);
    t.equal(page.status, 200);
    t.match(page.body, '<dt>User</dt><dd>amy</dd>');
    t.match(page.body, '<dt>Home server</dt><dd>lib</dd>', 'found over the network: her home is another server');
    t.match(
      page.body,
      '<tbody>\n<tr><td>Student</td><td>/d1/c101</td><td>—</td><td>—</td><td>active</td></tr>\n' +
        '<tr><td>Teaching assistant</td><td>/d1/c202</td><td>2000-01-01</td><td>2100-01-01</td><td>active</td></tr>\n</tbody>',
    );
    t.match(page.body, '<a href="/logout/">Log out</a>');
    const bob = cookiesOf(await login({ user: 'bob', domain: 'd1', password: 'bob pw' }));
    t.match((await get('/', bob)).body, '<p id="roles">You have no roles yet');
  });

  t.test('error pages a person understands', async (t) => {
    const missing = await get('/no/such/page');
    assertErrorPage(t, missing, 404, 'There is no page here', 'The link may be mistyped');
    t.equal(missing.body, renderPage(errorPage(404)));

    const forbidden = await get('/status/', amy);
    assertErrorPage(t, forbidden, 403, 'This page is not open to you', 'ask them for access');

    const failed = await get('/boom/', amy);
    assertErrorPage(t, failed, 500, 'Something went wrong on this server', 'The failure has been logged');
    t.notMatch(failed.body, 'page exploded', 'no stack for users who are not admins');
    await acc.waitForLog(/error web: web \/boom\/: Error: page exploded/);

    const away = await get('/away/', amy);
    assertErrorPage(t, away, 503, 'Not available just now', 'please try again in a minute');
    t.equal(away.headers['retry-after'], '30');
    await acc.waitForLog(/warn web: web \/away\/: unavailable: lib is down/);
  });

  t.test('her home server cannot be reached', async (t) => {
    await lib.stop();
    const page = await get('/', amy);
    t.equal(page.status, 200, 'the front page still answers');
    t.match(page.body, '<dt>User</dt><dd>amy</dd>');
    t.match(page.body, '<p class="notice" id="home-unreachable">Your home server cannot be reached just now');
    t.notMatch(page.body, 'Home server</dt>');
    const r = await login({ user: 'amy', domain: 'd1', password: 'amy pw' });
    t.equal(r.status, 503, 'the login page: try again later');
    t.match(r.body, '<p class="error" role="alert">Your home server cannot be reached just now. Please try again later.</p>');
    t.match(r.body, `<link rel="stylesheet" href="${STYLESHEET_URL}">`);
  });
});
