/**
 * Link management: SIGHUP applies a changed hosts table every time without
 * touching unaffected links; a dead peer answers `con_lost` at once and is
 * revived by SIGUSR1, by `reset_retries`, and by connecting to us.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { escape } from '../lib';
import { makeNetwork } from './helpers/network';
import { waitFor } from './helpers/wait';

t.test('SIGHUP twice with a changed hosts table', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.6.2' },
    { id: 'beta', ip: '127.0.6.3' },
    { id: 'gamma', ip: '127.0.6.4' },
  ]);
  const alphaTable = net.writeHosts([net.line('alpha'), net.line('beta')], join(net.dir, 'alpha.tab'));
  const a = await net.start('alpha', ['--hosts', alphaTable]);
  await net.start('beta');
  await net.start('gamma');
  t.equal(await a.call('beta', 'ping'), 'beta');
  t.equal(await a.call('gamma', 'ping'), 'no_such_host');

  net.writeHosts([net.line('alpha'), net.line('beta'), net.line('gamma')], alphaTable);
  a.proc.kill('SIGHUP');
  await a.waitForLog(/reloaded: 3 host\(s\); added \[gamma\], removed \[\], changed \[\]/);
  t.equal(await a.call('gamma', 'ping'), 'gamma');
  t.ok(existsSync(join(a.host.spool, 'sock', 'gamma')), 'classic socket for the new peer');
  const before = (await a.status()).peers.find((p) => p.peer === 'gamma')!;

  net.writeHosts([net.line('alpha'), net.line('gamma')], alphaTable);
  a.proc.kill('SIGHUP');
  await a.waitForLog(/reloaded: 2 host\(s\); added \[\], removed \[beta\], changed \[\]/);
  t.equal(await a.call('beta', 'ping'), 'no_such_host');
  t.notOk(existsSync(join(a.host.spool, 'sock', 'beta')), 'classic socket of the removed peer is gone');
  const after = (await a.status()).peers.find((p) => p.peer === 'gamma')!;
  t.equal(after.state, 'up');
  t.equal(after.since, before.since, 'the unaffected link was not dropped');

  writeFileSync(alphaTable, 'this is not a hosts line\n');
  a.proc.kill('SIGHUP');
  await a.waitForLog(/reload failed, keeping the running configuration: .*alpha\.tab:1: expected lonid:domain:role:hostname:ip:publickey/);
  t.equal(await a.call('gamma', 'ping'), 'gamma', 'the running table stays');
});

t.test('a dead peer fails fast and is revived', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'delta', ip: '127.0.6.5' },
    { id: 'eps', ip: '127.0.6.6' },
  ]);
  // A long ceiling: only the revival paths under test bring eps back.
  const a = await net.start('delta', ['--backoff-ceiling-ms', '600000']);
  const markDead = async () => {
    await waitFor('eps marked dead', async () => {
      const reply = await a.call('eps', 'ping', { timeoutMs: 200 });
      const s = await a.status();
      return reply === 'con_lost' && s.peers[0]!.state === 'dead';
    });
    t.equal(await a.call('eps', 'ping', { timeoutMs: 60_000 }), 'con_lost', 'answered at once, not at the deadline');
  };
  await markDead();
  let b = await net.start('eps');

  a.proc.kill('SIGUSR1');
  await a.waitForLog(/SIGUSR1: retrying dead peers/);
  await waitFor('link up after SIGUSR1', async () => (await a.call('eps', 'ping')) === 'eps');

  await b.stop();
  await markDead();
  b = await net.start('eps');
  t.equal(await a.call('eps', 'reset_retries'), 'ok');
  await waitFor('link up after reset_retries', async () => (await a.call('eps', 'ping')) === 'eps');

  await b.stop();
  await markDead();
  b = await net.start('eps');
  t.equal(await b.call('delta', 'ping'), 'delta', 'eps connects to delta');
  await a.waitForLog(/retrying eps: it connected to us/);
  await waitFor('link up after eps connected', async () => (await a.call('eps', 'ping')) === 'eps');
});

t.test('a manager pushes a new hosts table', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'mgr', ip: '127.0.6.7' },
    { id: 'target', ip: '127.0.6.8' },
    { id: 'newcomer', ip: '127.0.6.9' },
  ]);
  const targetTable = net.writeHosts([net.line('mgr'), net.line('target')], join(net.dir, 'target.tab'));
  const target = await net.start('target', ['--hosts', targetTable, '--managers', 'mgr']);
  const mgr = await net.start('mgr');
  const newcomer = await net.start('newcomer');
  t.equal(await target.call('newcomer', 'ping'), 'no_such_host');

  const wrongKey = [net.line('mgr'), net.line('target').replace(/:[^:]+$/, ':' + net.hosts.get('mgr')!.publicKey)].join('\n');
  t.match(await mgr.call('target', `pushfile:hosts:${escape(wrongKey)}`), /^error:.*target is listed with another public key/);
  t.match(await mgr.call('target', `pushfile:hosts:${escape('not a table')}`), /^error:the pushed hosts table:1: expected lonid/);
  t.equal(await mgr.call('target', `pushfile:domain:${escape('x')}`), 'error:pushfile takes the hosts table only');

  const full = [net.line('mgr'), net.line('target'), net.line('newcomer')].join('\n') + '\n';
  t.equal(await mgr.call('target', `pushfile:hosts:${escape(full)}`), 'ok');
  await target.waitForLog(/reloaded: 3 host\(s\); added \[newcomer\]/);
  t.equal(readFileSync(targetTable, 'utf8'), full, 'installed in place of the old file');
  t.equal(await target.call('newcomer', 'ping'), 'newcomer');
  t.equal(await newcomer.call('target', `pushfile:hosts:${escape(full)}`), 'refused', 'only configured managers');
  t.equal(await mgr.call('target', 'reinit:lond'), 'ok');
  t.notOk(target.stderr.some((l) => l.includes('newcomer.example.org')), 'the pushed text is not logged');
});
