/**
 * Security at the core's edges, each attack on its own subtest with real
 * daemons: a listed host cannot suppress another host's critical writes by
 * pre-recording its message ids; a listed address flooding Hellos cannot
 * starve the daemon or keep a legitimate link from coming up, and its
 * refusals are summarised; a Hello cannot forge a log line.
 */
import { createConnection } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { loadOrCreateKeys } from '../lib/config';
import { createHello, encodeFrame } from '../lib/wire';
import { runCli } from './helpers/cli';
import { makeNetwork, PEER_PORT, query } from './helpers/network';
import { handshake, openLines, rawConnect, sealLines } from './helpers/raw-peer';
import { waitFor } from './helpers/wait';

t.test("a host cannot pre-record another host's message ids", async (t) => {
  const net = await makeNetwork(t, [
    { id: 'victim', ip: '127.0.30.2' },
    { id: 'sender', ip: '127.0.30.3' },
    { id: 'mallory', ip: '127.0.30.4' },
  ]);
  const s = await net.start('sender');
  // The victim is away: the sender's grade waits in its spool, held, with its message id on disk.
  t.equal(await s.call('victim', 'put:d1:amy:grades:hw1=10', { critical: true }), 'con_delayed');
  const held = await runCli(['spool', 'hold', 'victim', '--spool', s.host.spool]);
  t.equal(held.code, 0, held.stderr);
  const [{ msgid }] = query<{ msgid: string }>(join(s.host.spool, 'spool.sqlite'), 'SELECT msgid FROM queue');

  const v = await net.start('victim');
  // mallory, a listed host with its own key, sends the victim a harmless command under the sender's id.
  const p = await rawConnect('127.0.30.4', '127.0.30.2', PEER_PORT);
  const session = await handshake(p, 'mallory', 'victim', loadOrCreateKeys(join(net.dir, 'mallory')), Buffer.from(net.hosts.get('victim')!.publicKey, 'base64'));
  p.sock.write(sealLines(session, [`c 1 ${msgid} ping`]));
  t.same(openLines(session, (await p.nextFrame())!), [JSON.stringify({ kind: 'r', id: 1, reply: 'victim' })], 'applied for mallory');
  p.sock.destroy();

  const released = await runCli(['spool', 'release', 'victim', '--spool', s.host.spool]);
  t.equal(released.code, 0, released.stderr);
  await waitFor('the grade delivered', () => query(join(s.host.spool, 'spool.sqlite'), 'SELECT 1 FROM queue').length === 0);
  t.equal(await v.call('victim', 'get:d1:amy:grades:hw1'), '10', "the sender's put was applied, not answered with mallory's reply");
  t.same(
    query(join(v.host.spool, 'data.sqlite'), 'SELECT sender, reply FROM applied ORDER BY sender'),
    [
      { sender: 'mallory', reply: 'victim' },
      { sender: 'sender', reply: 'ok' },
    ],
    'one record per sender under the same id',
  );
  t.same(query(join(s.host.spool, 'spool.sqlite'), 'SELECT * FROM aside'), []);
});

t.test('a Hello flood from a listed address', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'target', ip: '127.0.31.2' },
    { id: 'friend', ip: '127.0.31.3' },
    { id: 'flooder', ip: '127.0.31.4' },
  ]);
  const target = await net.start('target');
  const probe = await target.client();
  t.teardown(() => probe.close());
  let flooding = true;
  const missed: string[] = [];
  // A local probe every 20 ms during the flood; each must be answered within its deadline.
  const probing = (async () => {
    let n = 0;
    while (flooding) {
      const r = await probe.reply('.', 'ping', { timeoutMs: 1000 }).catch((e: Error) => e.message);
      if (r !== 'target') missed.push(r);
      n++;
      await new Promise((r) => setTimeout(r, 20));
    }
    return n;
  })();
  // 1,500 concurrent connections from the flooder's listed address, each a valid Hello (the costly part for the target).
  const socks = Array.from({ length: 1500 }, () => {
    const sock = createConnection({ host: '127.0.31.2', port: PEER_PORT, localAddress: '127.0.31.4' });
    sock.on('error', () => {});
    sock.on('connect', () => sock.write(encodeFrame(createHello('flooder', 'target').hello)));
    sock.resume(); // read (and drop) the ServerHellos, so that the daemon's close is seen
    return sock;
  });
  t.teardown(() => {
    for (const s of socks) s.destroy();
  });
  // Meanwhile a legitimate peer starts, links up and is served.
  const friend = await net.start('friend');
  t.equal(await friend.call('target', 'ping'), 'target', 'a legitimate link comes up and serves during the flood');
  t.equal(await target.call('friend', 'ping'), 'friend');
  await waitFor('every flood connection ended', () => socks.every((s) => s.destroyed || s.closed), { timeoutMs: 30_000 });
  flooding = false;
  const probes = await probing;
  t.ok(probes > 0);
  t.same(missed, [], 'every local probe answered during the flood');
  await target.waitForLog(/refused peer connection from 127\.0\.31\.4: (too many handshakes pending from this address|handshake rate exceeded from this address)/);
  const refusals = target.stderr.filter((l) => l.includes('refused peer connection from 127.0.31.4'));
  t.ok(refusals.length <= 6, `refusals logged once per kind, not per connection (${refusals.length} lines)`);
});

t.test('a Hello cannot forge a log line', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'scribe', ip: '127.0.31.10' },
    { id: 'forger', ip: '127.0.31.11' },
  ]);
  const d = await net.start('scribe');
  const p = await rawConnect('127.0.31.11', '127.0.31.10', PEER_PORT);
  p.sock.write(encodeFrame(createHello('forger\n2026-12-01T00:00:00.000Z error FORGED', 'scribe').hello));
  await p.closed;
  await d.waitForLog(/refused peer connection from 127\.0\.31\.11: unknown lonid "forger\\x0a2026-12-01T00:00:00\.000Z error FORGED"/);
  t.notOk(d.stderr.some((l) => l.startsWith('2026-12-01T00:00:00.000Z error FORGED')), 'no line begins with the forged text');
  t.equal(await d.call('scribe', 'ping'), 'scribe');
});
