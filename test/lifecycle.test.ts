/**
 * Link and daemon lifecycle with real processes: keep-alive detects a peer
 * that stopped answering (SIGSTOP), an idle link closes, SIGTERM spools a
 * critical message that was in flight and exits 0 with nothing lost, a slow
 * command does not hold up the replies to others, and the spool CLI's
 * show/retry/delete.
 */
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli';
import { makeNetwork, query } from './helpers/network';
import { waitFor } from './helpers/wait';

const queue = (spool: string) => query<{ seq: number; command: string }>(join(spool, 'spool.sqlite'), 'SELECT seq, command FROM queue ORDER BY seq');

t.test('keep-alive and idle close', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.14.2' },
    { id: 'beta', ip: '127.0.14.3' },
  ]);
  const a = await net.start('alpha', ['--ping-interval-ms', '100', '--ping-timeout-ms', '300', '--idle-timeout-ms', '60000']);
  const b = await net.start('beta');
  t.equal(await a.call('beta', 'ping'), 'beta');
  b.proc.kill('SIGSTOP');
  t.teardown(() => b.proc.kill('SIGCONT'));
  await a.waitForLog(/link beta: up → (backoff|idle) \(ping-timeout\)/);
  const s = (await a.status()).peers[0]!;
  t.not(s.state, 'up');
  b.proc.kill('SIGCONT');

  const c = await makeNetwork(t, [
    { id: 'gamma', ip: '127.0.14.4' },
    { id: 'delta', ip: '127.0.14.5' },
  ]);
  const g = await c.start('gamma', ['--idle-timeout-ms', '200']);
  await c.start('delta');
  t.equal(await g.call('delta', 'ping'), 'delta');
  await g.waitForLog(/link delta: up → idle \(idle-timeout\)/);
  t.equal((await g.status()).peers[0]!.state, 'idle');
  t.equal(await g.call('delta', 'ping'), 'delta', 'the next request opens it again');
});

t.test('SIGTERM with a critical message in flight: spooled, exit 0, delivered once later', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'eps', ip: '127.0.14.6' },
    { id: 'zeta', ip: '127.0.14.7' },
  ]);
  let a = await net.start('eps', ['--critical-timeout-ms', '60000']);
  const b = await net.start('zeta');
  t.equal(await a.call('zeta', 'inc:d1:amy:n:x'), 'ok');
  b.proc.kill('SIGSTOP'); // zeta receives but cannot answer
  t.teardown(() => b.proc.kill('SIGCONT'));
  const c = await a.client();
  const pending = c.critical('zeta', 'inc:d1:amy:n:x');
  await waitFor('the message in flight', async () => (await a.status()).peers[0]!.inFlight === 1);
  const code = a.stop('SIGTERM');
  t.equal(await pending, 'con_delayed', 'the client hears con_delayed, not silence');
  t.equal(await code, 0, 'clean exit');
  t.same(queue(a.host.spool).map((r) => r.command), ['inc:d1:amy:n:x']);

  b.proc.kill('SIGCONT');
  a = await net.start('eps');
  await waitFor('replayed', () => queue(a.host.spool).length === 0);
  t.equal(await a.call('zeta', 'get:d1:amy:n:x'), '2', 'applied exactly once (1 before, 1 for the spooled inc)');
});

t.test('a slow command does not hold up the replies to others', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'eta', ip: '127.0.14.8' },
    { id: 'theta', ip: '127.0.14.9' },
  ]);
  const a = await net.start('eta');
  await net.start('theta');
  const c = await a.client();
  t.teardown(() => c.close());
  t.equal(await c.reply('theta', 'makeuser:d1:amy:internal:pw'), 'ok');
  const order: string[] = [];
  // auth runs scrypt (tens of ms); the pings behind it on the same link answer first.
  const auth = c.reply('theta', 'auth:d1:amy:pw').then((r) => order.push(`auth:${r}`));
  const pings = Promise.all([1, 2, 3].map(() => c.reply('theta', 'ping').then((r) => order.push(`ping:${r}`))));
  await Promise.all([auth, pings]);
  t.same(order, ['ping:theta', 'ping:theta', 'ping:theta', 'auth:authorized']);
});

t.test('spool show, retry and delete', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'iota', ip: '127.0.14.10' },
    { id: 'kappa', ip: '127.0.14.11' },
  ]);
  const a = await net.start('iota');
  for (const cmd of ['log:d1:amy:one', 'bogus:x', 'log:d1:amy:two']) t.equal(await a.call('kappa', cmd, { critical: true }), 'con_delayed');
  const [one, bogus, two] = queue(a.host.spool);
  const show = await runCli(['spool', 'show', String(bogus!.seq), '--spool', a.host.spool]);
  t.equal(show.code, 0);
  t.match(JSON.parse(show.stdout), { seq: bogus!.seq, peer: 'kappa', command: 'bogus:x', status: 'queued', attempts: 0 });
  const del = await runCli(['spool', 'delete', String(two!.seq), '--spool', a.host.spool, '--json']);
  t.same(JSON.parse(del.stdout), { changed: 1 });
  const b = await net.start('kappa');
  await waitFor('replayed', () => queue(a.host.spool).length === 0);
  t.same(query(join(b.host.spool, 'data.sqlite'), 'SELECT text FROM activity'), [{ text: 'one' }], 'the deleted message never went');
  t.same(query(join(a.host.spool, 'spool.sqlite'), 'SELECT seq, reason, reply FROM aside'), [{ seq: bogus!.seq, reason: 'failed', reply: 'unknown_cmd' }]);
  const retry = await runCli(['spool', 'retry', String(bogus!.seq), '--spool', a.host.spool, '--json']);
  t.same(JSON.parse(retry.stdout), { changed: 1 });
  await waitFor('retried and set aside again', () => query(join(a.host.spool, 'spool.sqlite'), 'SELECT 1 FROM aside').length === 1 && queue(a.host.spool).length === 0);
  t.equal(one!.seq < bogus!.seq, true);
  const missing = await runCli(['spool', 'show', '99999', '--spool', a.host.spool]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no message #99999/);
});
