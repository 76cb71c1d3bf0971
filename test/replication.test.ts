/**
 * Dynamic resource replication between real daemons on 127.0.60.x: one
 * library server `lib`, home of the author `au`, and two access servers.
 *
 *   acc1 (127.0.60.3) ──┐  sub / fetch / fetchpart over the sealed link
 *                       ├──▶ lib (127.0.60.2)   resources of au:d1
 *   acc2 (127.0.60.4) ──┘  ◀── critical update:<url> at publication
 *
 * Every daemon serves the web on the same port at its own address, and
 * names its peers' web addresses by IP (`--host-url-template`). Faults in
 * transfers are injected on the home through `res:fault` (`--test-hooks`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { runCli } from './helpers/cli';
import { makeNetwork, query, webPort, type Daemon, type Network } from './helpers/network';
import { waitFor } from './helpers/wait';

const WEB = webPort(18600);
const LIB_IP = '127.0.60.2';
const ACC1_IP = '127.0.60.3';
const ACC2_IP = '127.0.60.4';
const WEB_ARGS = ['--http-port', String(WEB), '--host-url-template', 'http://{ip}:{httpPort}', '--test-hooks'];

interface Copy {
  url: string;
  origin: string;
  version: number;
  size: number;
  sha256: string;
}

/** GET a URL from a daemon's web server; the body as bytes. */
function getBytes(ip: string, path: string, localAddress?: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port: WEB, path, agent: false, ...(localAddress ? { localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function resOp(d: Daemon, op: string, ...args: string[]): Promise<unknown> {
  const reply = await d.call('.', `res:${op}:${JSON.stringify(args)}`, { timeoutMs: 60_000 });
  if (reply.startsWith('error:')) throw new Error(reply);
  return JSON.parse(reply);
}

const copies = async (d: Daemon): Promise<Copy[]> => (await resOp(d, 'list')) as Copy[];
const stats = async (d: Daemon): Promise<Record<string, number>> => (await resOp(d, 'stats')) as Record<string, number>;
const fault = (d: Daemon, op: string, url: string): Promise<unknown> => resOp(d, 'fault', op, url);

function subscribers(lib: Daemon, url: string): Array<{ host: string; ip: string }> {
  return query(join(lib.host.spool, 'data.sqlite'), 'SELECT host, ip FROM res_subscriptions WHERE url = ? ORDER BY host', url);
}

/** Publish `bytes` as `url` on the home through the CLI; its stdout. */
async function publish(net: Network, lib: Daemon, url: string, bytes: Buffer | string, title?: string): Promise<string> {
  const src = join(net.dir, `src-${randomBytes(4).toString('hex')}`);
  writeFileSync(src, bytes);
  const r = await runCli(['res', 'publish', src, url, '--spool', lib.host.spool, ...(title ? ['--title', title] : [])]);
  if (r.code !== 0) throw new Error(`publish failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Files of the resource directory on a daemon, work files included. */
function filesIn(d: Daemon, dir: string): string[] {
  const path = join(d.host.spool, 'res', dir);
  return existsSync(path) ? readdirSync(path).sort() : [];
}

t.test('replication across a library server and two access servers', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'lib', ip: LIB_IP, role: 'library' },
    { id: 'acc1', ip: ACC1_IP, role: 'access' },
    { id: 'acc2', ip: ACC2_IP, role: 'access' },
  ]);
  const lib = await net.start('lib', WEB_ARGS);
  const acc1 = await net.start('acc1', WEB_ARGS);
  let acc2 = await net.start('acc2', WEB_ARGS);
  const c = await lib.client();
  t.teardown(() => c.close());
  await new Lonnet(c).makeuser('lib', 'd1', 'au', 'internal', 'pw');

  await t.test('first access serves the home bytes and records the subscription', async (t) => {
    const v1 = randomBytes(300_000);
    const out = await publish(net, lib, '/res/d1/au/chem/p1.html', v1, 'Bohr model');
    t.match(out, /^published \/res\/d1\/au\/chem\/p1\.html version 1 \(300000 bytes, sha256 [0-9a-f]{64}\)\nno subscribers\n$/);
    t.same(filesIn(lib, 'd1/au/chem'), ['p1.html', 'p1.html.meta']);
    const meta = readFileSync(join(lib.host.spool, 'res/d1/au/chem/p1.html.meta'), 'utf8');
    t.match(meta, /<title>Bohr model<\/title>\n<author>au:d1<\/author>\n<version>1<\/version>\n<size>300000<\/size>\n<sha256>[0-9a-f]{64}<\/sha256>/);

    const got = await getBytes(ACC1_IP, '/res/d1/au/chem/p1.html');
    t.equal(got.status, 200);
    t.equal(got.headers['content-type'], 'text/html; charset=utf-8');
    t.ok(got.body.equals(v1), 'the home bytes, exactly');
    t.same(subscribers(lib, '/res/d1/au/chem/p1.html'), [{ host: 'acc1', ip: ACC1_IP }], 'acc1 subscribed, at its listed address');
    t.match(await copies(acc1), [{ url: '/res/d1/au/chem/p1.html', origin: 'lib', version: 1, size: 300000 }]);
    t.same(filesIn(acc1, 'd1/au/chem'), ['p1.html', 'p1.html.meta'], 'the copy and its .meta, no work file');
    t.equal(readFileSync(join(acc1.host.spool, 'res/d1/au/chem/p1.html.meta'), 'utf8'), meta, 'the .meta came along');
    t.match(await stats(acc1), { fetches: 1, fetchBytes: 300000, joined: 0 });

    const again = await getBytes(ACC1_IP, '/res/d1/au/chem/p1.html');
    t.ok(again.body.equals(v1));
    t.equal((await stats(acc1)).fetches, 1, 'served from the local copy the second time');
    t.equal((await getBytes(ACC1_IP, '/res/d1/au/chem/nothing.html')).status, 404, 'missing on the home: 404');
    t.equal((await getBytes(ACC1_IP, '/res/d1/nobody/x.html')).status, 404, 'an author nobody is home of: 404');
    t.equal((await getBytes(LIB_IP, '/res/d1/au/chem/p1.html')).body.length, 300000, 'the home serves its own file');
  });

  await t.test('a new version reaches the subscriber and is served at once', async (t) => {
    const v2 = Buffer.from('<p>version two</p>\n');
    const out = await publish(net, lib, '/res/d1/au/chem/p1.html', v2);
    t.match(out, /version 2 \(19 bytes, sha256 [0-9a-f]{64}\); previous version kept as p1\.1\.html\nSUBSCRIBER\s+REPLY\nacc1\s+ok\n$/);
    t.same(filesIn(lib, 'd1/au/chem'), ['p1.1.html', 'p1.1.html.meta', 'p1.html', 'p1.html.meta']);
    t.match(readFileSync(join(lib.host.spool, 'res/d1/au/chem/p1.html.meta'), 'utf8'), /<title>Bohr model<\/title>[^]*<version>2<\/version>/, 'the title carries over');
    const got = await getBytes(ACC1_IP, '/res/d1/au/chem/p1.html');
    t.equal(got.body.toString(), '<p>version two</p>\n', 'ok meant installed: the next read has it');
    t.match(await copies(acc1), [{ url: '/res/d1/au/chem/p1.html', version: 2, size: 19 }]);
    t.match(await stats(acc1), { updatesApplied: 1, updatesFailed: 0 });

    const old = await getBytes(ACC1_IP, '/res/d1/au/chem/p1.1.html');
    t.equal(old.status, 200);
    t.equal(old.body.length, 300000, 'an older version is fetched on demand like any resource');
    t.match(await copies(acc1), [{ url: '/res/d1/au/chem/p1.1.html', version: 1 }, { url: '/res/d1/au/chem/p1.html', version: 2 }]);
    const current = await getBytes(ACC1_IP, '/res/d1/au/chem/p1.2.html');
    t.equal(current.body.toString(), '<p>version two</p>\n', 'the current version by its number');
    t.equal((await getBytes(LIB_IP, '/res/d1/au/chem/p1.2.html')).body.toString(), '<p>version two</p>\n', 'the same on the home');
    t.match((await getBytes(ACC1_IP, '/res/d1/au/chem/p1.html.meta')).body.toString(), /<version>2<\/version>/, 'a copy\'s .meta is served');
    t.equal((await getBytes(ACC1_IP, '/res/d1/au/chem/p9.html.meta')).status, 404, 'a .meta alone is never fetched');
    const dir = await getBytes(ACC1_IP, '/res/d1/au/chem?x=1');
    t.equal(dir.status, 302, 'a directory on the home: to its URL with a slash');
    t.equal(dir.headers.location, '/res/d1/au/chem/?x=1');
    t.equal((await getBytes(ACC1_IP, '/res/d1/au/chem/')).status, 404, 'no listing: the site does not list directories');
  });

  await t.test('a subscriber down at publication gets the update from the spool', async (t) => {
    t.equal((await getBytes(ACC2_IP, '/res/d1/au/chem/p1.html')).status, 200, 'acc2 subscribes');
    await acc2.stop();
    const out = await publish(net, lib, '/res/d1/au/chem/p1.html', 'version three\n');
    t.match(out, /acc1\s+ok\nacc2\s+con_delayed\n$/, 'acc1 applied it; acc2 is away');
    acc2 = await net.start('acc2', WEB_ARGS);
    await waitFor('acc2 installs version 3 from the spool', async () => (await copies(acc2)).find((c) => c.url === '/res/d1/au/chem/p1.html')?.version === 3);
    t.equal((await getBytes(ACC2_IP, '/res/d1/au/chem/p1.html')).body.toString(), 'version three\n');
    await waitFor('the spool is empty', () => lib.status().then((s) => s.peers.every((p) => p.queue === 0)));
  });

  await t.test('classic /raw/ answers only the listed address of a subscribed host', async (t) => {
    const raw = (from: string, path = '/raw/res/d1/au/chem/p1.html') => getBytes(LIB_IP, path, from);
    const ok = await raw(ACC1_IP);
    t.equal(ok.status, 200);
    t.equal(ok.body.toString(), 'version three\n');
    t.equal((await raw('127.0.60.9')).status, 403, 'an address of no host');
    t.equal((await raw(ACC1_IP, '/raw/res/d1/au/chem/p1.1.html')).status, 200, 'acc1 holds that old version too');
    await publish(net, lib, '/res/d1/au/chem/private.html', 'nobody holds this\n');
    t.equal((await raw(ACC1_IP, '/raw/res/d1/au/chem/private.html')).status, 403, 'a resource acc1 did not subscribe to');
    t.equal((await getBytes(ACC1_IP, '/raw/res/d1/au/chem/p1.html', ACC1_IP)).status, 403, 'a host that is not the home has no subscribers');
    t.equal((await stats(lib)).rawServed, 2);
  });

  await t.test('an unused copy is dropped and unsubscribed when an update comes', async (t) => {
    await acc2.stop();
    acc2 = await net.start('acc2', [...WEB_ARGS, '--resource-expire-ms', '1']);
    await publish(net, lib, '/res/d1/au/old/e1.html', 'first\n');
    t.equal((await getBytes(ACC2_IP, '/res/d1/au/old/e1.html')).body.toString(), 'first\n');
    t.same(filesIn(acc2, 'd1/au/old'), ['e1.html', 'e1.html.meta']);
    const out = await publish(net, lib, '/res/d1/au/old/e1.html', 'second\n');
    t.match(out, /acc2\s+ok\n$/);
    t.same(filesIn(acc2, 'd1/au/old'), [], 'the copy and its .meta are gone');
    t.notOk((await copies(acc2)).some((c) => c.url === '/res/d1/au/old/e1.html'));
    t.match(await stats(acc2), { expired: 1 });
    await waitFor('the home forgets acc2', () => subscribers(lib, '/res/d1/au/old/e1.html').length === 0);
    t.equal((await getBytes(ACC2_IP, '/res/d1/au/old/e1.html')).body.toString(), 'second\n', 'read again: fetched again');
  });

  await t.test('fifty concurrent first requests share one transfer', async (t) => {
    const big = randomBytes(1024 * 1024);
    await publish(net, lib, '/res/d1/au/big/b.bin', big);
    const before = await stats(acc1);
    await fault(lib, 'hold', '/res/d1/au/big/b.bin');
    const replies = Array.from({ length: 50 }, () => getBytes(ACC1_IP, '/res/d1/au/big/b.bin'));
    await waitFor('49 requests wait on the first one', async () => (await stats(acc1)).joined - before.joined === 49);
    await fault(lib, 'release', '/res/d1/au/big/b.bin');
    const all = await Promise.all(replies);
    t.same(all.map((r) => r.status), Array(50).fill(200));
    t.ok(all.every((r) => r.body.equals(big)), 'every one got the exact bytes');
    const after = await stats(acc1);
    t.equal(after.fetches - before.fetches, 1, 'one fetch');
    t.equal(after.fetchBytes - before.fetchBytes, 1024 * 1024);
    t.equal(after.joined - before.joined, 49);
  });

  await t.test('a corrupted or truncated transfer installs nothing and answers 503', async (t) => {
    for (const kind of ['corrupt', 'truncate']) {
      const url = `/res/d1/au/bad/${kind}.html`;
      const bytes = randomBytes(200_000);
      await publish(net, lib, url, bytes);
      await fault(lib, kind, url);
      const before = await stats(acc1);
      const got = await getBytes(ACC1_IP, url);
      t.equal(got.status, 503, `${kind}: 503`);
      t.equal(got.headers['retry-after'], '30');
      t.match(got.body.toString(), /temporarily unavailable/);
      t.same(filesIn(acc1, 'd1/au/bad').filter((f) => f.startsWith(kind)), [], `${kind}: no file, no work file`);
      t.equal((await stats(acc1)).fetches, before.fetches);
      await fault(lib, 'clear', url);
      const retried = await getBytes(ACC1_IP, url);
      t.equal(retried.status, 200);
      t.ok(retried.body.equals(bytes), `${kind}: the next try gets the right bytes`);
    }
  });

  await t.test('a failed re-fetch is not answered ok, and the home retries it', async (t) => {
    const url = '/res/d1/au/chem/p1.html';
    const before = await stats(acc1);
    await fault(lib, 'fail', url);
    const out = await publish(net, lib, url, 'version four\n');
    t.match(out, /\nacc1\s+con_delayed\n/, 'not ok: acc1 answered a transient failure, so the home spooled the update');
    t.ok((await stats(acc1)).updatesFailed > before.updatesFailed, 'counted as failed');
    t.equal((await getBytes(ACC1_IP, url)).body.toString(), 'version three\n', 'the old copy is still served, whole');
    t.same(
      query(join(lib.host.spool, 'spool.sqlite'), 'SELECT peer, command FROM queue'),
      [{ peer: 'acc1', command: `update:${url}` }],
      'the update waits in the spool of the home',
    );
    await fault(lib, 'clear', url);
    await waitFor('the spool of the home retries the update', async () => (await copies(acc1)).find((c) => c.url === url)?.version === 4);
    t.equal((await getBytes(ACC1_IP, url)).body.toString(), 'version four\n');
    await waitFor('the update leaves the spool', () => lib.status().then((s) => s.peers.every((p) => p.queue === 0)));
  });

  await t.test("the site map's permissions apply to /res/", async (t) => {
    const site = (...args: string[]) => runCli(['site', ...args, '--spool', acc1.host.spool]);
    t.match((await site('list')).stdout, /\/raw\/\s+raw\s+yes\s+no\s+public:read\n\/res\/\s+res\s+yes\s+yes\s*\n/, 'the fresh site mounts both');
    t.equal((await site('revoke', '/', 'public', 'read')).code, 0);
    const closed = await getBytes(ACC1_IP, '/res/d1/au/chem/p1.html');
    t.equal(closed.status, 302, '/res/ inherits: a closed site sends visitors to log in');
    t.equal(closed.headers.location, '/login/?return_url=%2Fres%2Fd1%2Fau%2Fchem%2Fp1.html');
    t.equal((await site('grant', '/', 'public', 'read')).code, 0);
    t.equal((await getBytes(ACC1_IP, '/res/d1/au/chem/p1.html')).status, 200);
  });

  await t.test('the home unreachable: 503 with Retry-After', async (t) => {
    await publish(net, lib, '/res/d1/au/late/l.html', 'late\n');
    await lib.stop();
    const got = await getBytes(ACC1_IP, '/res/d1/au/late/l.html');
    t.equal(got.status, 503);
    t.equal(got.headers['retry-after'], '30');
    t.match(got.body.toString(), /<h1>This resource is temporarily unavailable<\/h1>/);
    t.equal((await getBytes(ACC1_IP, '/res/d1/au/chem/p1.html')).body.toString(), 'version four\n', 'copies held are still served');
  });
});

