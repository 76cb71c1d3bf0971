/**
 * The web processor's edges, against a real daemon (a library server that
 * serves the web and is its users' home): site-map edits never served stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli';
import { http } from './helpers/http';
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
