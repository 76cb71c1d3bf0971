/**
 * Site map, pageroots, abstract URLs, .vuh handlers, redirects, methods and
 * malformed URLs, through real HTTP requests to a running WebServer.
 */
import t from 'tap';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorPage } from '../lib/web/error-pages';
import { renderPage } from '../lib/web/page-layout';
import { startWeb, type Reply, type WebHarness } from './fixtures/web/harness';
import { demoSite, type EchoedEnv } from './fixtures/web/site';

const HOST = '127.0.4.1';

function echoed(reply: Reply): EchoedEnv {
  if (reply.status !== 200 || reply.headers['content-type'] !== 'application/json') {
    throw new Error(`expected an echo page, got ${reply.status} ${reply.body}`);
  }
  return JSON.parse(reply.body) as EchoedEnv;
}

async function demo(t: tap.Test): Promise<WebHarness> {
  const h = await startWeb(t, HOST, demoSite(t));
  h.server.siteMap.mount('/demo/', 'demo', { instanceName: 'Demo' });
  h.server.siteMap.mount('/demo/nested/', 'demo', { instanceName: 'Nested demo' });
  h.server.siteMap.mount('/exact/', 'demo', { pattern: false });
  return h;
}

t.test('global pageroot, abstract URLs and index files', async (t) => {
  const h = await demo(t);
  const index = await h.get('/');
  t.equal(index.status, 200);
  t.equal(index.body, 'global index\n');
  t.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  t.equal((await h.get('/hello')).body, 'global hello\n', 'abstract URL → .html');
  t.equal((await h.get('/hello.html')).body, 'global hello\n', 'explicit file');
  t.equal((await h.get('/inside-link.html')).body, 'global hello\n', 'a symlink inside the root is fine');
});

t.test('an unmounted directory is served from the global pageroot by the root node', async (t) => {
  const h = await demo(t);
  t.equal((await h.get('/docs/')).body, 'docs index\n');
  t.equal((await h.get('/docs/guide')).body, 'docs guide\n');
  const redirect = await h.get('/docs?q=1&r=%20');
  t.equal(redirect.status, 302, 'a directory without its slash');
  t.equal(redirect.headers.location, '/docs/?q=1&r=%20', 'keeps the query');
  t.equal(redirect.body, '302 Found\n');
});

t.test('package mounts: package pageroot first, then the global one', async (t) => {
  const h = await demo(t);
  const env = echoed(await h.get('/demo/?a=b'));
  t.same(
    { ...env, file: env.file.slice(h.dir.length), requestCount: 0 },
    {
      method: 'GET', url: '/demo/', urlv: ['demo'], query: 'a=b',
      file: join('/site/packages/demo/www/index.page.js'),
      packageKey: 'demo', packageUrl: '/demo/', packageId: env.nodeId, nodeId: env.nodeId,
      instanceName: 'Demo', extraUrl: '', pathInfo: '', pathInfoSegments: [],
      sessionId: 0, userId: null, authLevel: 'none', xhr: false, requestCount: 0,
    },
  );
  t.equal((await h.get('/demo/shared')).body, 'package shared\n', 'package pageroot wins');
  t.equal((await h.get('/demo/only-global')).body, 'global only\n', 'global pageroot + full URL');
  const mountRedirect = await h.get('/demo?x=1&y=2');
  t.equal(mountRedirect.status, 302);
  t.equal(mountRedirect.headers.location, '/demo/?x=1&y=2', 'mount redirect keeps the query');
  const dirRedirect = await h.get('/demo/dir?z=3');
  t.equal(dirRedirect.status, 302);
  t.equal(dirRedirect.headers.location, '/demo/dir/?z=3');
  t.equal((await h.get('/demo/dir/')).body, 'demo dir index\n');
  t.equal((await h.get('/demo/style')).status, 404, 'no alphabetical fallback to style.css');
  t.equal((await h.get('/demo/style.css')).headers['content-type'], 'text/css; charset=utf-8');
});

t.test('nested mounts of one package', async (t) => {
  const h = await demo(t);
  const outer = echoed(await h.get('/demo/echo'));
  const inner = echoed(await h.get('/demo/nested/echo'));
  t.match(outer, { packageUrl: '/demo/', extraUrl: 'echo', instanceName: 'Demo' });
  t.match(inner, { packageUrl: '/demo/nested/', extraUrl: 'echo', instanceName: 'Nested demo' });
  t.not(inner.nodeId, outer.nodeId);
  t.equal(inner.file, outer.file, 'same package, same pageroot');
  t.equal((await h.get('/demo/nested')).headers.location, '/demo/nested/');
});

t.test('a non-pattern node serves its own URL only', async (t) => {
  const h = await demo(t);
  t.match(echoed(await h.get('/exact/')), { packageUrl: '/exact/', extraUrl: '' });
  t.equal((await h.get('/exact/sub')).body, 'global exact sub\n', 'below it, the root node answers');
  t.equal((await h.get('/exact/echo')).status, 404, 'the package is not searched below a non-pattern node');
});

t.test('extension precedence: page modules before .html, explicit files by their type', async (t) => {
  const h = await demo(t);
  t.match(echoed(await h.get('/demo/pref')), { file: /pref\.page\.js$/ });
  t.equal((await h.get('/demo/pref.html')).body, 'pref html\n');
  const explicitPage = echoed(await h.get('/demo/echo.page.js'));
  t.match(explicitPage, { file: /echo\.page\.js$/, pathInfo: '' }, 'a page module runs, its source is never sent');
});

t.test('a configured precedence replaces the default; vuh stays last', async (t) => {
  const h = await startWeb(t, HOST, demoSite(t), { extensionPrecedence: ['vuh', 'html', 'page.js'] });
  h.server.siteMap.mount('/demo/', 'demo');
  t.equal((await h.get('/demo/pref')).body, 'pref html\n');
});

t.test('.vuh handlers at several depths, with OpenACS path_info', async (t) => {
  const h = await demo(t);
  const cases: [string, RegExp, string][] = [
    ['/demo/files/a/b', /packages\/demo\/www\/files\.vuh$/, '/a/b'],
    ['/demo/files/a/', /packages\/demo\/www\/files\.vuh$/, '/a/'],
    ['/demo/files/', /packages\/demo\/www\/files\.vuh$/, '/'],
    ['/demo/sub/x/y', /packages\/demo\/www\/sub\/index\.vuh$/, 'x/y'],
    ['/demo/sub/inner/z', /packages\/demo\/www\/sub\/inner\/index\.vuh$/, 'z'],
    ['/demo/sub/', /packages\/demo\/www\/sub\/index\.vuh$/, ''],
    ['/demo/files.vuh', /packages\/demo\/www\/files\.vuh$/, ''],
    ['/demo/nothing/q', /www\/demo\/nothing\.vuh$/, '/q'],
    ['/v/one/two', /www\/v\/index\.vuh$/, 'one/two'],
    ['/deep/x', /www\/deep\.vuh$/, '/x'],
    ['/demo/nested/files/k', /packages\/demo\/www\/files\.vuh$/, '/k'],
  ];
  for (const [url, file, pathInfo] of cases) {
    const env = echoed(await h.get(url));
    t.match(env.file, file, url);
    t.equal(env.pathInfo, pathInfo, `${url} pathInfo`);
  }
  t.same(echoed(await h.get('/demo/sub/x/y/')).pathInfoSegments, ['x', 'y']);
  t.equal((await h.get('/demo/zzz')).status, 404, 'www/demo.vuh does not reach into the /demo/ mount');
  t.equal((await h.get('/nodir/')).status, 404, 'no listing, no index, no vuh');
});

t.test('directory listings, when turned on, come after files and before .vuh', async (t) => {
  const h = await startWeb(t, HOST, demoSite(t), { directoryListings: true });
  const listing = await h.get('/nodir/');
  t.equal(listing.status, 200);
  t.equal(listing.headers['content-type'], 'text/html; charset=utf-8');
  t.match(listing.body, '<li><a href="a.txt">a.txt</a></li>\n<li><a href="sub/">sub/</a></li>\n</ul>');
  t.notMatch(listing.body, 'hidden');
  t.notMatch(listing.body, 'b~');
  t.equal((await h.get('/docs/')).body, 'docs index\n', 'an index file wins');
  t.equal((await h.get('/outdir/')).status, 404, 'never a directory outside the root');
});

t.test('methods', async (t) => {
  const h = await demo(t);
  for (const method of ['PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const r = await h.request('/hello', { method });
    t.equal(r.status, 405, method);
    t.equal(r.headers.allow, 'GET, HEAD, POST');
  }
  const post = await h.request('/hello', { method: 'POST', body: 'x' });
  t.equal(post.status, 405, 'no POST to a static file');
  t.equal(post.headers.allow, 'GET, HEAD');
  t.equal(echoed(await h.request('/demo/echo', { method: 'POST', body: 'x' })).method, 'POST');
  const head = await h.request('/hello', { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers['content-length'], '13');
  t.equal(head.body, '');
});

t.test('malformed and oversized URLs', async (t) => {
  const h = await demo(t);
  for (const path of ['/a%00b', '/a%0d%0ab', '/%ZZ', '/a%2Fb/c', '/hello%C3']) {
    const r = await h.get(path);
    t.equal(r.status, 400, path);
    t.equal(r.body, renderPage(errorPage(400)));
  }
  t.equal((await h.get('/' + 'x'.repeat(2000))).status, 414);
  t.equal((await h.get('/' + 'x'.repeat(1999))).status, 404);
});

t.test('dotfiles, backups and page sources are never served', async (t) => {
  const h = await demo(t);
  for (const path of ['/.env', '/%2eenv', '/docs/.hidden', '/notes.txt~', '/notes.bak', '/demo/src.page.ts', '/env-link.txt']) {
    const r = await h.get(path);
    t.equal(r.status, 404, path);
    t.equal(r.body, renderPage(errorPage(404)));
  }
  t.equal((await h.request('/.env', { method: 'DELETE' })).status, 404, 'a dot segment is refused before the method');
});

t.test('traversal attempts stay inside the pageroots', async (t) => {
  const h = await demo(t);
  for (const path of [
    '/../outside.txt',
    '/../../outside.txt',
    '/%2e%2e/%2e%2e/outside.txt',
    '/docs/%2E%2E/%2e%2e/%2e%2e/outside.txt',
    '/demo/..%2f..%2foutside.txt',
    '/outside-link.txt',
    '/outdir/file.txt',
  ]) {
    const r = await h.get(path);
    t.ok(r.status === 404 || r.status === 400, `${path} → ${r.status}`);
    t.notMatch(r.body, 'outside');
  }
  t.equal((await h.get('/demo/%2e%2e/hello')).body, 'global hello\n', '.. is resolved in the URL, not on disk');
});

t.test('the site map changes live while serving', async (t) => {
  const h = await demo(t);
  t.equal((await h.get('/live/')).status, 404);
  h.server.siteMap.mount('/live/', 'demo', { instanceName: 'Live' });
  t.match(echoed(await h.get('/live/')), { packageUrl: '/live/', instanceName: 'Live' });
  h.server.siteMap.mount('/live/', 'private');
  t.equal((await h.get('/live/')).body, 'private index\n', 'remounted on another package');
  h.server.siteMap.unmount('/live/');
  t.equal((await h.get('/live/')).status, 404);
  h.server.siteMap.unmount('/demo/');
  t.equal((await h.get('/demo/only-global')).body, 'global only\n', 'unmounted: the root node serves www/demo/');
  t.match(
    echoed(await h.get('/demo/echo')),
    { file: /www\/demo\.vuh$/, pathInfo: '/echo', packageUrl: '/' },
    'and www/demo.vuh, no longer bounded by the mount, catches the rest',
  );
  t.match(echoed(await h.get('/demo/nested/echo')), { packageUrl: '/demo/nested/' }, 'the nested mount stays');
});

t.test('registered handlers: longest path wins, exact beats subtree', async (t) => {
  const h = await demo(t);
  const answer = (name: string) => (_req: unknown, res: import('node:http').ServerResponse, env: { pathInfo: string; packageKey: string }) => {
    res.end(`${name} ${env.pathInfo} ${env.packageKey}`);
  };
  h.server.registerHandler('/demo/api', answer('subtree'));
  h.server.registerHandler('/demo/api/exact', answer('exact'), { exact: true });
  h.server.registerHandler('/demo/api/deeper/', answer('deeper'));
  t.equal((await h.get('/demo/api')).body, 'subtree  demo');
  t.equal((await h.get('/demo/api/x/y')).body, 'subtree /x/y demo');
  t.equal((await h.get('/demo/api/exact')).body, 'exact  demo');
  t.equal((await h.get('/demo/api/exact/more')).body, 'subtree /exact/more demo');
  t.equal((await h.get('/demo/api/deeper/z')).body, 'deeper /z demo');
  t.throws(() => h.server.registerHandler('/demo/api', answer('again')), { code: 'LC_ERR_BAD_ARGS' });
});

t.test('filters: preauth and postauth before handlers, trace after the response', async (t) => {
  const h = await demo(t);
  const order: string[] = [];
  h.server.registerFilter('preauth', '/demo/*', (_req, res) => {
    order.push('preauth');
    res.setHeader('X-Filtered', 'yes');
    return 'ok';
  });
  h.server.registerFilter('preauth', '/demo/*', () => {
    order.push('preauth-2');
    return 'break';
  });
  h.server.registerFilter('preauth', '/demo/*', () => {
    order.push('skipped by break');
    return 'ok';
  });
  h.server.registerFilter('postauth', '*.html', async (_req, res) => {
    order.push('postauth');
    res.writeHead(418).end('teapot');
    return 'return' as const;
  });
  h.server.registerFilter('postauth', '/demo/bad*', () => 'maybe' as 'ok');
  const traced = new Promise<string>((resolve) => {
    h.server.registerFilter('trace', '/demo/echo', (_req, res, env) => {
      resolve(`${env.url} ${res.statusCode}`);
      return 'ok';
    });
  });
  const echo = await h.get('/demo/echo');
  t.equal(echo.headers['x-filtered'], 'yes');
  t.same(order, ['preauth', 'preauth-2']);
  t.equal(await traced, '/demo/echo 200');
  const teapot = await h.get('/demo/shared.html');
  t.equal(teapot.status, 418);
  t.equal(teapot.body, 'teapot');
  t.equal((await h.get('/demo/bad')).status, 500, 'a filter answering nonsense is a server error');
});

t.test('a page that throws gives a 500 without details, and is logged', async (t) => {
  const h = await demo(t);
  const r = await h.get('/demo/boom?password=hunter2');
  t.equal(r.status, 500);
  t.equal(r.body, renderPage(errorPage(500)), 'the page for everyone, without the stack');
  const logged = h.logs.filter((l) => l.startsWith('error '));
  t.equal(logged.length, 1);
  t.match(logged[0], /^error web \/demo\/boom: Error: page exploded \| at /);
  t.notMatch(logged[0], 'hunter2', 'query strings never reach the log');
});

t.test('an edited page module is reloaded without a restart', async (t) => {
  const h = await startWeb(t, HOST, demoSite(t), { fileCacheTtlMs: 0 });
  h.server.siteMap.mount('/demo/', 'demo');
  t.equal((await h.get('/demo/pref')).headers['content-type'], 'application/json');
  await writeFile(join(h.dir, 'site/packages/demo/www/pref.page.js'), "module.exports = (q, s) => s.end('edited');\n");
  t.equal((await h.get('/demo/pref')).body, 'edited');
  await rm(join(h.dir, 'site/packages/demo/www/pref.page.js'));
  t.equal((await h.get('/demo/pref')).body, 'pref html\n', 'and a removed one is no longer found');
});

t.test('shipped packages: a site package overrides or adds files, build by-products stay hidden', async (t) => {
  const tree = demoSite(t) as { site: { packages: Record<string, unknown> } };
  tree.site.packages['status'] = { www: { 'index.html': 'site status\n', 'extra.txt': 'added\n' } };
  const h = await startWeb(t, HOST, tree as ReturnType<typeof demoSite>);
  h.server.siteMap.grant('/', 'alice:dom1', 'admin'); // the status package is for admins
  const admin = { Cookie: await h.login('alice', 'dom1', 'alice-pw') };
  t.equal((await h.get('/status/', admin)).body, 'site status\n', 'the site pageroot is searched before the shipped one');
  t.equal((await h.get('/status/extra.txt', admin)).body, 'added\n');
  t.equal((await h.get('/login/')).status, 200, 'the shipped login page');
  for (const path of ['/login/index.page.js.map', '/login/index.page.d.ts', '/login/index.page.ts']) {
    t.equal((await h.get(path)).status, 404, path);
  }
});
