/**
 * The replication commands in their classic shapes (reference §5.2–§5.4),
 * between real daemons on 127.0.61.x: `lib` is the home of the author `au`,
 * `lib2` another library server of the domain, `acc` an access server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { runCli } from './helpers/cli';
import { makeNetwork } from './helpers/network';

t.test('sub, unsub, update, fetch and the res CLI, classic cases', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'lib', ip: '127.0.61.2', role: 'library' },
    { id: 'lib2', ip: '127.0.61.3', role: 'library' },
    { id: 'acc', ip: '127.0.61.4', role: 'access' },
  ]);
  const urlArgs = ['--host-url-template', 'https://{hostname}'];
  const lib = await net.start('lib', urlArgs);
  const lib2 = await net.start('lib2', urlArgs);
  const acc = await net.start('acc', urlArgs);
  const c = await acc.client();
  t.teardown(() => c.close());
  const home = await lib.client(); // users are made on their home (or by a manager)
  await new Lonnet(home).makeuser('lib', 'd1', 'au', 'internal', 'pw');
  await home.close();
  const src = join(net.dir, 'x.html');
  writeFileSync(src, '<p>x</p>\n');
  const published = await runCli(['res', 'publish', src, '/res/d1/au/x.html', '--spool', lib.host.spool, '--json']);
  t.equal(published.code, 0, published.stderr);
  t.match(JSON.parse(published.stdout), { url: '/res/d1/au/x.html', version: 1, size: 9, kept: null, subscribers: [] });
  mkdirSync(join(lib.host.spool, 'res/d1/au/dir'));

  await t.test('sub on the home: file, directory, missing; elsewhere rejected', async (t) => {
    t.equal(await c.reply('lib', 'sub:/res/d1/au/x.html'), 'https://lib.example.org/raw/res/d1/au/x.html', 'a file: the /raw URL');
    t.equal(await c.reply('lib', 'sub:/home/httpd/html/res/d1/au/x.html'), 'https://lib.example.org/raw/res/d1/au/x.html', 'the classic file-system form');
    t.equal(await c.reply('lib', 'sub:/res/d1/au/dir'), 'directory');
    t.equal(await c.reply('lib', 'sub:/res/d1/au/missing.html'), 'not_found');
    t.equal(await c.reply('lib', 'sub:/res/d1/au/x.7.html'), 'not_found', 'a version that was never published');
    t.equal(await c.reply('lib2', 'sub:/res/d1/au/x.html'), 'rejected', 'not the home of au');
    t.equal(await c.reply('lib', 'sub:/res/d1/au/../../etc/passwd'), 'error:bad path');
    t.equal(await c.reply('lib', 'sub:/etc/passwd'), 'not_found', 'nothing of an author');
  });

  await t.test('update on a subscriber: no copy → not_found; on the home → rejected', async (t) => {
    t.equal(await lib.call('acc', 'update:/res/d1/au/x.html'), 'not_found');
    t.equal(await acc.call('lib', 'update:/res/d1/au/x.html'), 'rejected');
  });

  await t.test('unsub and fetch', async (t) => {
    t.equal(await c.reply('lib', 'unsub:/res/d1/au/x.html'), 'ok', 'acc subscribed above');
    t.equal(await c.reply('lib', 'unsub:/res/d1/au/x.html'), 'not_subscribed');
    t.equal(await c.reply('lib2', 'unsub:/res/d1/au/x.html'), 'rejected');
    t.equal(await c.reply('lib', 'fetch:/res/d1/au/x.html'), 'not_subscribed', 'only subscribers get the bytes');
    await c.reply('lib', 'sub:/res/d1/au/x.html');
    const opened = await c.reply('lib', 'fetch:/res/d1/au/x.html');
    const m = /^ok:(\w+):9:([0-9a-f]{64}):1:(.*)$/.exec(opened);
    t.ok(m, opened);
    t.match(decodeURIComponent(m![3]!), /<version>1<\/version>/, 'the .meta travels with it');
    t.equal(Buffer.from(await c.reply('lib', `fetchpart:${m![1]}:0:9`), 'base64').toString(), '<p>x</p>\n');
    t.equal(await c.reply('lib', `fetchpart:${m![1]}:5:9`), 'error:range outside the file');
    t.equal(await lib2.call('lib', `fetchpart:${m![1]}:0:9`), 'error:no such transfer', 'a transfer belongs to the host that opened it');
    t.equal(await c.reply('lib', `fetchend:${m![1]}`), 'ok');
    t.equal(await c.reply('lib', `fetchend:${m![1]}`), 'not_found');
  });

  await t.test('res CLI: publish only on the home, subscribers, refused hooks', async (t) => {
    const elsewhere = await runCli(['res', 'publish', src, '/res/d1/au/x.html', '--spool', lib2.host.spool]);
    t.equal(elsewhere.code, 1);
    t.equal(elsewhere.stderr, "loncapad: lib2 is not the home server of au:d1; publish on the author's home server\n");
    const missing = await runCli(['res', 'publish', join(net.dir, 'nope'), '/res/d1/au/x.html', '--spool', lib.host.spool]);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /cannot copy .*nope: ENOENT/);
    const kept = await runCli(['res', 'publish', src, '/res/d1/au/x.3.html', '--spool', lib.host.spool]);
    t.match(kept.stderr, /x\.3\.html is a kept version's name/);
    const subs = await runCli(['res', 'subscribers', '/res/d1/au/x.html', '--spool', lib.host.spool]);
    t.equal(subs.code, 0);
    t.match(subs.stdout, /^HOST\s+IP\s+SINCE\nacc\s+127\.0\.61\.4\s+\d{4}-\d\d-\d\dT/);
    t.equal(await lib.call('.', 'res:fault:["corrupt","/res/d1/au/x.html"]'), 'error:test hooks are off (start the daemon with --test-hooks)');
    t.equal(await acc.call('lib', 'res:stats:[]'), 'refused', 'local clients only');
    const again = await runCli(['res', 'publish', src, '/res/d1/au/x.html', '--spool', lib.host.spool]);
    t.match(again.stdout, /version 2 .*kept as x\.1\.html\nSUBSCRIBER\s+REPLY\nacc\s+not_found\n$/, 'acc subscribed by hand but holds no copy');
    t.equal(await c.reply('lib', 'currentversion:/res/d1/au/x.html'), '2', 'currentversion agrees');
    t.equal(await c.reply('lib', 'sub:/res/d1/au/x.2.html'), 'https://lib.example.org/raw/res/d1/au/x.2.html', 'the current version by number');
    t.equal(await c.reply('lib', 'sub:/res/d1/au/x.1.html'), 'https://lib.example.org/raw/res/d1/au/x.1.html', 'the kept one');
  });
});
