/**
 * The web processor's edges, against a real daemon (a library server that
 * serves the web and is its users' home): site-map edits never served stale,
 * headers against framing and sniffing on every response, and the status
 * page for admins only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { errorPage } from '../lib/web/error-pages';
import { renderPage } from '../lib/web/page-layout';
import { ownPagePolicy } from '../lib/web/security-headers';
import { runCli } from './helpers/cli';
import { cookiesOf, http, type HttpReply } from './helpers/http';
import { makeNetwork, webPort, type Daemon } from './helpers/network';

const WEB_PORT = webPort(18420);
const IP = '127.0.42.2';

async function startSite(t: tap.Test, files: Record<string, string>): Promise<Daemon> {
  const net = await makeNetwork(t, [{ id: 'lib', ip: IP, role: 'library' }]);
  const site = join(net.dir, 'lib', 'site');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(site, path, '..'), { recursive: true });
    writeFileSync(join(site, path), text);
  }
  return net.start('lib', ['--http-port', String(WEB_PORT)]);
}

async function site(t: tap.Test, lib: Daemon, ...args: string[]): Promise<void> {
  const r = await runCli(['site', ...args, '--spool', lib.host.spool]);
  t.equal(r.code, 0, `site ${args.join(' ')}: ${r.stderr}`);
}

const get = (path: string, opts: { cookie?: string; headers?: Record<string, string>; method?: string } = {}) =>
  http(IP, WEB_PORT, path, opts);

t.test('site-map edits are never served stale', async (t) => {
  const lib = await startSite(t, {
    'packages/forums/www/thread.html': 'thread, forums mounted at /forums/sub/\n',
    'packages/forums/www/sub/thread.html': 'sub/thread, forums mounted at /forums/\n',
    'packages/blog/www/thread.html': 'thread, blog mounted at /forums/sub/\n',
  });
  await site(t, lib, 'mount', '/forums/', 'forums');
  await site(t, lib, 'mount', '/forums/sub/', 'forums');
  const c = await lib.client();
  t.teardown(() => c.close());
  const thread = async () => (await get('/forums/sub/thread')).body;

  t.test('unmount with the CLI: the enclosing mount serves the URL at once', async (t) => {
    t.equal(await thread(), 'thread, forums mounted at /forums/sub/\n');
    await site(t, lib, 'unmount', '/forums/sub/');
    t.equal(await thread(), 'sub/thread, forums mounted at /forums/\n', 'the same package key, URL and extra URL, another node');
    await site(t, lib, 'mount', '/forums/sub/', 'forums');
    t.equal(await thread(), 'thread, forums mounted at /forums/sub/\n');
  });

  t.test('edits within the cache lifetime of the last request', async (t) => {
    // Through a connection opened beforehand: the edit lands milliseconds after the page was cached.
    t.equal(await thread(), 'thread, forums mounted at /forums/sub/\n');
    t.equal(await c.admin('site:unmount:["/forums/sub/"]'), '{"removed":true}');
    t.equal(await thread(), 'sub/thread, forums mounted at /forums/\n', 'unmounted');
    t.equal(await c.admin('site:mount:["/forums/sub/","forums"]').then((r) => JSON.parse(r).packageKey), 'forums');
    t.equal(await thread(), 'thread, forums mounted at /forums/sub/\n', 'mounted again');
    t.equal(await c.admin('site:mount:["/forums/sub/","blog"]').then((r) => JSON.parse(r).packageKey), 'blog');
    t.equal(await thread(), 'thread, blog mounted at /forums/sub/\n', 'remounted: the same node id, another package');
  });
});

const FRAMING_HEADERS = {
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

/** loncapad's own pages and the error pages send a stricter policy, which forbids framing too. */
const OWN_PAGE_HEADERS = { ...FRAMING_HEADERS, 'content-security-policy': ownPagePolicy() };

function securityHeadersOf(r: HttpReply): Record<string, unknown> {
  return Object.fromEntries(Object.keys(FRAMING_HEADERS).map((name) => [name, r.headers[name]]));
}

t.test('no response can be framed by another site or sniffed into another type', async (t) => {
  const lib = await startSite(t, {
    'www/hello.html': '<p>hello</p>\n',
    'www/data.txt': '<script>alert(1)</script>\n',
    'packages/boom/www/index.page.js': "module.exports = () => { throw new Error('boom'); };\n",
    'packages/boom/www/later.page.js': "module.exports = async () => { await null; throw new Error('later'); };\n",
  });
  await site(t, lib, 'mount', '/boom/', 'boom');
  const cases: Array<[string, number, typeof FRAMING_HEADERS, Parameters<typeof get>[1]?]> = [
    ['/login/', 200, OWN_PAGE_HEADERS],
    ['/', 200, OWN_PAGE_HEADERS],
    ['/hello.html', 200, FRAMING_HEADERS],
    ['/data.txt', 200, FRAMING_HEADERS],
    ['/login/loncapad.css', 200, FRAMING_HEADERS],
    ['/missing', 404, OWN_PAGE_HEADERS],
    ['/status/', 302, FRAMING_HEADERS],
    ['/hello.html', 405, OWN_PAGE_HEADERS, { method: 'PUT' }],
    ['/%2e%2e%2f', 400, OWN_PAGE_HEADERS],
    ['/boom/', 500, OWN_PAGE_HEADERS],
    ['/boom/later', 500, OWN_PAGE_HEADERS],
  ];
  for (const [path, status, headers, opts] of cases) {
    const r = await get(path, opts);
    t.equal(r.status, status, `${opts?.method ?? 'GET'} ${path}`);
    t.same(securityHeadersOf(r), headers, `${opts?.method ?? 'GET'} ${path}: every header`);
  }
  const login = await get('/login/');
  t.match(login.headers['content-type'], 'text/html', 'the login page is HTML and carries them');
  const etag = String((await get('/hello.html')).headers.etag);
  const notModified = await get('/hello.html', { headers: { 'If-None-Match': etag } });
  t.equal(notModified.status, 304);
  t.same(securityHeadersOf(notModified), FRAMING_HEADERS, 'a 304 too');
  const range = await get('/data.txt', { headers: { Range: 'bytes=0-7' } });
  t.equal(range.status, 206);
  t.same(securityHeadersOf(range), FRAMING_HEADERS, 'a 206 too');
});

t.test('a page may replace any of the headers it is given, in any case and any form, and each is sent once', async (t) => {
  const page = (code: string) => `module.exports = (req, res) => { ${code} };\n`;
  const lib = await startSite(t, {
    'packages/own/www/implicit.page.js': page("res.end('implicit');"),
    'packages/own/www/object.page.js': page(
      "res.writeHead(200, { 'content-security-policy': \"default-src 'self'\", 'CACHE-CONTROL': 'no-store' }); res.end('object');",
    ),
    'packages/own/www/set.page.js': page("res.setHeader('X-Frame-Options', 'SAMEORIGIN'); res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('set');"),
    'packages/own/www/array.page.js': page("res.writeHead(200, 'Fine', ['referrer-policy', 'no-referrer', 'Content-Type', 'text/plain']); res.end('array');"),
  });
  await site(t, lib, 'mount', '/own/', 'own');
  // Node joins a repeated header of these names with ', ': a value below is exactly one header.
  const headersOf = async (name: string): Promise<Record<string, unknown>> => {
    const r = await get(`/own/${name}`);
    t.equal(r.status, 200, name);
    t.equal(r.body, name, `${name}: the page's body`);
    return { ...securityHeadersOf(r), 'cache-control': r.headers['cache-control'] };
  };
  const pageDefaults = { ...FRAMING_HEADERS, 'cache-control': 'private, no-cache' };
  t.same(await headersOf('implicit'), pageDefaults, 'a head written by end() gets them all');
  t.same(
    await headersOf('object'),
    { ...pageDefaults, 'content-security-policy': "default-src 'self'", 'cache-control': 'no-store' },
    "writeHead's object replaces two, in another case",
  );
  t.same(await headersOf('set'), { ...pageDefaults, 'x-frame-options': 'SAMEORIGIN' }, 'setHeader replaces one');
  t.same(await headersOf('array'), { ...pageDefaults, 'referrer-policy': 'no-referrer' }, "writeHead's array form replaces one");
});

t.test('the status page shows its counters to admins of / only', async (t) => {
  const lib = await startSite(t, {});
  const c = await lib.client();
  t.teardown(() => c.close());
  for (const [user, password] of [['alice', 'alice pw'], ['bob', 'bob pw']] as const) {
    await new Lonnet(c).makeuser('.', 'd1', user, 'internal', password);
  }
  const login = async (user: string, password: string): Promise<string> => {
    const r = await http(IP, WEB_PORT, '/login/', { form: { user, domain: 'd1', password } });
    t.equal(r.status, 302, `${user} logged in`);
    return cookiesOf(r);
  };
  const alice = await login('alice', 'alice pw');
  const bob = await login('bob', 'bob pw');

  t.test('anonymous visitors and users who are not admins of /', async (t) => {
    const anonymous = await get('/status/');
    t.equal(anonymous.status, 302);
    t.equal(anonymous.headers.location, '/login/?return_url=%2Fstatus%2F');
    t.equal((await get('/status/', { headers: { 'X-Requested-With': 'XMLHttpRequest' } })).status, 403);
    const user = await get('/status/', { cookie: bob });
    t.equal(user.status, 403);
    t.equal(user.body, renderPage(errorPage(403)), 'no counters, no sessions');
  });

  t.test('an admin of /', async (t) => {
    await site(t, lib, 'grant', '/', 'alice:d1', 'admin');
    const status = await get('/status/', { cookie: alice });
    t.equal(status.status, 200);
    t.match(status.body, /<dt>Web sessions<\/dt><dd><span id="sessions">2<\/span> active<\/dd>/);
    t.equal((await get('/status/', { cookie: bob })).status, 403, 'still not bob');
  });
});
