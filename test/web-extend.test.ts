/**
 * What a site owner can change without editing loncapad, against real
 * daemons: a package's init module registering a filter and a subtree
 * handler (and SIGHUP replacing them, never adding copies), the extension
 * precedence and directory listings as settings, and `loncapad site move`
 * taking the nodes below along.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../lib/config';
import { runCli } from './helpers/cli';
import { http } from './helpers/http';
import { makeNetwork, query, webPort, type Daemon } from './helpers/network';
import { waitFor } from './helpers/wait';

const IP = '127.0.73.2';
const WEB_PORT = webPort(18730);
const get = (path: string) => http(IP, WEB_PORT, path);

/** An init module of package notes, version `v`: a filter counting its runs in a header, and a handler below /notes/api. */
const initModule = (v: string): string => `module.exports = function init(web) {
  web.registerFilter('postauth', '/notes/*', (req, res, env) => {
    res.setHeader('X-Notes-Filter', '${v}');
    res.setHeader('X-Notes-Filter-Runs', String(Number(res.getHeader('X-Notes-Filter-Runs') || 0) + 1));
    return 'ok';
  });
  web.registerHandler('/notes/api', (req, res, env) => {
    const body = '${v} ' + env.pathInfo + ' at ' + web.mountedAt().join(',') + '\\n';
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
};
`;

async function site(t: tap.Test, d: Daemon, ...args: string[]): Promise<string> {
  const r = await runCli(['site', ...args, '--spool', d.host.spool]);
  t.equal(r.code, 0, `site ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const countLines = (d: Daemon, re: RegExp): number => d.stderr.filter((l) => re.test(l)).length;

t.test('an init module registers a filter and a handler; SIGHUP replaces them', async (t) => {
  const net = await makeNetwork(t, [{ id: 'lib', ip: IP, role: 'library' }]);
  const notes = join(net.dir, 'lib', 'site', 'packages', 'notes');
  mkdirSync(join(notes, 'www'), { recursive: true });
  writeFileSync(join(notes, 'www', 'index.html'), '<p>notes</p>\n');
  writeFileSync(join(notes, 'init.js'), initModule('v1'));
  const lib = await net.start('lib', ['--http-port', String(WEB_PORT)]);
  await lib.waitForLog(/info web: web init notes: 2 of 2 registration\(s\) in place/);
  await site(t, lib, 'mount', '/notes/', 'notes');
  const placed = /web init notes: 2 of 2 registration\(s\) in place/;

  const page = await get('/notes/');
  t.equal(page.status, 200);
  t.equal(page.body, '<p>notes</p>\n');
  t.equal(page.headers['x-notes-filter'], 'v1', 'the filter ran');
  t.equal(page.headers['x-notes-filter-runs'], '1');
  const api = await get('/notes/api/items/7');
  t.equal(api.body, 'v1 /items/7 at /notes/\n', 'the subtree handler, with its path info');
  t.equal(api.headers['x-notes-filter-runs'], '1');
  t.equal((await get('/notes/other')).status, 404, 'only the subtree it claimed');

  writeFileSync(join(notes, 'init.js'), initModule('v2'));
  lib.proc.kill('SIGHUP');
  await waitFor('the init module run again', () => countLines(lib, placed) === 2);
  const reloaded = await get('/notes/api/x');
  t.equal(reloaded.body, 'v2 /x at /notes/\n', 'the new handler in place of the old');
  t.equal(reloaded.headers['x-notes-filter'], 'v2');
  t.equal(reloaded.headers['x-notes-filter-runs'], '1', 'one filter: replaced, not added');
  t.equal(countLines(lib, /error web: web init/), 0, 'no clash with its own earlier registrations');

  writeFileSync(join(notes, 'init.js'), 'module.exports = function init(web) { web.registerFilter(\n');
  lib.proc.kill('SIGHUP');
  await lib.waitForLog(/error web: web init notes: .*init\.js failed, keeping its earlier registrations: .*init\.js:2 \| SyntaxError: Unexpected end of input/);
  const kept = await get('/notes/api/y');
  t.equal(kept.body, 'v2 /y at /notes/\n', 'a broken edit keeps what worked');
  t.equal(kept.headers['x-notes-filter-runs'], '1');

  rmSync(join(notes, 'init.js'));
  lib.proc.kill('SIGHUP');
  await lib.waitForLog(/info web: web init notes: init\.js removed; its filters and handlers are gone/);
  const gone = await get('/notes/');
  t.equal(gone.status, 200);
  t.equal(gone.headers['x-notes-filter'], undefined, 'the filter is gone');
  t.equal((await get('/notes/api/z')).status, 404, 'and the handler');
});

t.test('--web-extensions and --web-directory-listings change what is served', async (t) => {
  t.throws(() => loadConfig(['--web-extensions', 'html,txt']), { code: 'LC_ERR_CONFIG', message: /--web-extensions must include page\.js/ });
  t.same(loadConfig(['--web-extensions', 'page.js,txt', 'html']).webExtensions, ['page.js', 'txt', 'html']);
  const net = await makeNetwork(t, [{ id: 'lib', ip: IP, role: 'library' }]);
  const www = join(net.dir, 'lib', 'site', 'www');
  mkdirSync(join(www, 'docs'), { recursive: true });
  writeFileSync(join(www, 'syllabus.html'), '<p>the html syllabus</p>\n');
  writeFileSync(join(www, 'syllabus.txt'), 'the text syllabus\n');
  writeFileSync(join(www, 'docs', 'week1.html'), '<p>week 1</p>\n');

  let lib = await net.start('lib', ['--http-port', String(WEB_PORT)]);
  t.equal((await get('/syllabus')).body, '<p>the html syllabus</p>\n', 'default: page.js, html');
  t.equal((await get('/docs/')).status, 404, 'default: no listings');
  await lib.stop();

  lib = await net.start('lib', ['--http-port', String(WEB_PORT), '--web-extensions', 'page.js,txt,html', '--web-directory-listings']);
  const text = await get('/syllabus');
  t.equal(text.body, 'the text syllabus\n', 'txt before html');
  t.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
  const listing = await get('/docs/');
  t.equal(listing.status, 200);
  t.match(listing.body, '<li><a href="week1.html">week1.html</a></li>');
  t.equal((await get('/login/')).status, 200, "loncapad's own pages still work");
});

t.test('site move: the nodes below follow, with their packages and grants', async (t) => {
  const net = await makeNetwork(t, [{ id: 'lib', ip: IP, role: 'library' }]);
  const packages = join(net.dir, 'lib', 'site', 'packages');
  for (const key of ['course', 'forum', 'wiki']) {
    mkdirSync(join(packages, key, 'www'), { recursive: true });
    writeFileSync(join(packages, key, 'www', 'page.html'), `${key} page\n`);
  }
  const lib = await net.start('lib', ['--http-port', String(WEB_PORT)]);
  await site(t, lib, 'mount', '/fall/', 'course');
  await site(t, lib, 'mount', '/fall/forum/', 'forum', '--no-inherit');
  await site(t, lib, 'mount', '/fall/forum/wiki/', 'wiki');
  await site(t, lib, 'mount', '/fallback/', 'wiki');
  await site(t, lib, 'grant', '/fall/forum/', 'public', 'read');
  t.equal((await get('/fall/forum/wiki/page')).body, 'wiki page\n', 'served (and cached) before the move');

  const moved = JSON.parse(await site(t, lib, 'move', '/fall/', '/spring')) as Array<{ url: string; packageKey: string }>;
  t.same(moved.map((n) => [n.url, n.packageKey]), [['/spring/', 'course'], ['/spring/forum/', 'forum'], ['/spring/forum/wiki/', 'wiki']]);
  t.equal((await get('/fall/forum/wiki/page')).status, 404, 'the old URL is gone at once (the resolution cache dropped)');
  t.equal((await get('/spring/forum/wiki/page')).body, 'wiki page\n');
  t.equal((await get('/spring/forum/page')).body, 'forum page\n', 'its grant moved with it (it does not inherit)');
  t.equal((await get('/fallback/page')).body, 'wiki page\n', 'a node that only shares a prefix of letters stays');
  const list = await site(t, lib, 'list');
  t.match(list, /\/spring\/forum\/\s+forum\s+yes\s+no\s+public:read/);
  t.notMatch(list, '/fall/');
  t.same(
    query<{ url: string }>(join(lib.host.spool, 'data.sqlite'), "SELECT url FROM site_nodes WHERE url LIKE '/spring/%' OR url LIKE '/fall/%' ORDER BY url").map((r) => r.url),
    ['/spring/', '/spring/forum/', '/spring/forum/wiki/'],
    'the site-node table says the same',
  );

  for (const [from, to, why] of [
    ['/spring/forum/', '/fallback/', /a node is already mounted at \/fallback\//],
    ['/', '/x/', /the root node \/ cannot be moved/],
    ['/spring/', '/spring/inner/', /cannot move \/spring\/ into itself/],
    ['/nowhere/', '/x/', /no node mounted at \/nowhere\//],
  ] as const) {
    const r = await runCli(['site', 'move', from, to, '--spool', lib.host.spool]);
    t.equal(r.code, 1, `${from} → ${to} refused`);
    t.match(r.stderr, why);
  }
  t.equal((await get('/spring/forum/wiki/page')).body, 'wiki page\n', 'a refused move changes nothing');
});
