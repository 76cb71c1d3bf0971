/**
 * The critical spool with real daemons and real SQLite files: messages to a
 * stopped peer are committed before `con_delayed`, visible with the
 * documented schema, replayed in order when the peer returns, and survive a
 * SIGKILL of the sender.
 */
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli';
import { activityOf, makeNetwork, PEER_PORT, query } from './helpers/network';
import { waitFor } from './helpers/wait';

const texts = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const queued = (spool: string) =>
  query<{ peer: string; command: string; held: number }>(join(spool, 'spool.sqlite'), 'SELECT peer, command, held FROM queue ORDER BY seq');

t.test('critical messages to a stopped peer wait in the spool and arrive in order', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.2.2' },
    { id: 'beta', ip: '127.0.2.3' },
  ]);
  const a = await net.start('alpha');

  // One by one, then 20 at once on one connection (one group commit).
  const first = texts(5);
  for (const m of first) t.equal(await a.call('beta', `log:d1:amy:${m}`, { critical: true }), 'con_delayed');
  const c = await a.client();
  const burst = texts(20, 'b');
  const replies = await Promise.all(burst.map((m) => c.critical('beta', `log:d1:amy:${m}`)));
  await c.close();
  t.same(replies, burst.map(() => 'con_delayed'));

  const rows = queued(a.host.spool);
  t.same(
    rows.map((r) => r.command),
    [...first, ...burst].map((m) => `log:d1:amy:${m}`),
    'rows in acceptance order',
  );
  t.ok(rows.every((r) => r.peer === 'beta' && r.held === 0));
  t.same(query(join(a.host.spool, 'spool.sqlite'), 'SELECT peer, messages, held FROM queue_summary'), [
    { peer: 'beta', messages: 25, held: 0 },
  ]);
  const stats = await runCli(['spool', 'stats', '--json', '--spool', a.host.spool]);
  t.equal(stats.code, 0);
  t.match(JSON.parse(stats.stdout), [{ peer: 'beta', queued: 25, held: 0, failed: 0, expired: 0 }]);
  t.equal((await a.status()).peers[0]!.queue, 25, 'status shows the queue depth');

  const b = await net.start('beta');
  await waitFor('spool drained', () => queued(a.host.spool).length === 0);
  t.same(activityOf(b.host.spool), [...first, ...burst], 'applied once each, in order');
  await a.waitForLog(/spool: replay to beta done: 25 delivered, 0 set aside, 0 waiting/);

  t.equal(await a.call('beta', 'log:d1:amy:live', { critical: true }), 'ok', 'with the link up the peer answers');
  t.same(activityOf(b.host.spool).slice(-1), ['live']);
});

t.test('SIGKILL of the sender loses no spooled message', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'gamma', ip: '127.0.2.4' },
    { id: 'delta', ip: '127.0.2.5' },
  ]);
  let a = await net.start('gamma');
  const sent = texts(10, 'k');
  for (const m of sent) t.equal(await a.call('delta', `log:d1:amy:${m}`, { critical: true }), 'con_delayed');
  await a.stop('SIGKILL');

  // The killed daemon left its pid file and socket behind: both are replaced.
  a = await net.start('gamma');
  t.equal(queued(a.host.spool).length, 10);
  const b = await net.start('delta');
  await waitFor('spool drained after restart', () => queued(a.host.spool).length === 0);
  t.same(activityOf(b.host.spool), sent);
});

t.test('held, failed and expired messages', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'eps', ip: '127.0.2.6' },
    { id: 'zeta', ip: '127.0.2.7' },
  ]);
  const a = await net.start('eps', ['--spool-lifetime-ms', '60000']);
  t.equal(await a.call('zeta', 'log:d1:amy:h1', { critical: true }), 'con_delayed');
  t.equal(await a.call('zeta', 'frobnicate:x', { critical: true }), 'con_delayed');
  t.equal(await a.call('zeta', 'log:d1:amy:h2', { critical: true }), 'con_delayed');

  const held = await runCli(['spool', 'hold', 'zeta', '--spool', a.host.spool]);
  t.equal(held.code, 0, held.stderr);
  t.same(queued(a.host.spool).map((r) => r.held), [1, 1, 1]);

  const b = await net.start('zeta');
  // alpha marked zeta dead while it was away; it retries at the backoff ceiling.
  await waitFor('the link to zeta', async () => (await a.call('zeta', 'ping')) === 'zeta');
  t.equal(queued(a.host.spool).length, 3, 'held messages are not replayed');
  t.same(activityOf(b.host.spool), []);

  const released = await runCli(['spool', 'release', 'zeta', '--spool', a.host.spool]);
  t.equal(released.code, 0, released.stderr);
  await waitFor('released messages delivered', () => queued(a.host.spool).length === 0);
  t.same(activityOf(b.host.spool), ['h1', 'h2']);
  t.same(query(join(a.host.spool, 'spool.sqlite'), 'SELECT peer, command, reason, reply FROM aside'), [
    { peer: 'zeta', command: 'frobnicate:x', reason: 'failed', reply: 'unknown_cmd' },
  ]);
  const list = await runCli(['spool', 'list', '--spool', a.host.spool]);
  t.match(list.stdout, /set aside:[\s\S]*frobnicate:x/);
});

t.test('messages older than the lifetime are set aside as expired', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'eta', ip: '127.0.2.8' },
    { id: 'theta', ip: '127.0.2.9' },
  ]);
  const a = await net.start('eta', ['--spool-lifetime-ms', '200']);
  t.equal(await a.call('theta', 'log:d1:amy:old', { critical: true }), 'con_delayed');
  const spooledAt = Date.now();
  await waitFor('the message outlives its lifetime', () => Date.now() - spooledAt > 300);
  const b = await net.start('theta');
  await waitFor('expired message set aside', () => queued(a.host.spool).length === 0);
  t.same(query(join(a.host.spool, 'spool.sqlite'), 'SELECT command, reason FROM aside'), [{ command: 'log:d1:amy:old', reason: 'expired' }]);
  t.same(activityOf(b.host.spool), [], 'never delivered');
});

t.test('a second daemon on the same spool refuses to start', async (t) => {
  const net = await makeNetwork(t, [{ id: 'iota', ip: '127.0.2.10' }]);
  const a = await net.start('iota');
  const second = await runCli(['start', '--spool', a.host.spool, '--hosts', net.hostsFile, '--host-id', 'iota', '--port', String(PEER_PORT), '--http-port', '0']);
  t.equal(second.code, 1);
  t.match(second.stderr, /another loncapad \(pid \d+\) already runs on/);
  t.equal(await a.call('.', 'ping'), 'iota', 'the first one keeps running');
});
