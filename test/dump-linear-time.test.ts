/**
 * A caller's dump pattern cannot stall the daemon: `^(a|aa)*$` against a
 * 41-character key backtracks exponentially in a backtracking engine, and 200
 * such dumps in one write used to run back to back (10 s with the loop
 * blocked). Real daemons on 127.0.50.x: the library server beta, a hand-made
 * peer alpha (the listed key, the real wire protocol), and carol, a peer that
 * probes beta with short deadlines while the dumps run.
 */
import { join } from 'node:path';
import t from 'tap';
import { escape } from '../lib/client/escape';
import type { LoncapadClient } from '../lib';
import { loadOrCreateKeys } from '../lib/config';
import { makeNetwork, PEER_PORT } from './helpers/network';
import { handshake, rawConnect, requestAll } from './helpers/raw-peer';
import { roundsWhile } from './helpers/wait';

const DUMPS = 200;
/** A probe's deadline: far above a free loop's answer time, far below a stalled loop's. */
const PROBE_DEADLINE_MS = 500;
const A40 = 'a'.repeat(40);
const PATHOLOGICAL = `dump:d1:amy:keys:${escape('^(a|aa)*$')}`;
/** `aaaa` and forty a's match; forty a's and a b (the exponential case for a backtracker) does not. */
const EXPECTED = `aaaa=1&${A40}=2`;

t.test('pathological dump patterns in bulk', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'beta', ip: '127.0.50.2', role: 'library' },
    { id: 'alpha', ip: '127.0.50.3', role: 'access' },
    { id: 'carol', ip: '127.0.50.4', role: 'access' },
  ]);
  const beta = await net.start('beta');
  const carol = await net.start('carol');
  const local = await beta.client();
  const localProbe = await beta.client();
  const peerProbe = await carol.client();
  t.teardown(() => Promise.all([local.close(), localProbe.close(), peerProbe.close()]));
  t.equal(await local.reply('.', `put:d1:amy:keys:aaaa=1&${A40}=2&${A40}b=3`), 'ok');

  /**
   * Ping beta through a peer (carol's link, which answers con_lost at the
   * deadline) and through a second local connection until `work` is done;
   * every reply, so a single late one fails the test.
   */
  const probeDuring = async (work: Promise<unknown>): Promise<string[]> => {
    const ping = (c: LoncapadClient, peer: string) =>
      c.reply(peer, 'ping', { timeoutMs: PROBE_DEADLINE_MS }).catch((err: { code?: string }) => `client gave up (${err.code})`);
    return (await roundsWhile(work, () => Promise.all([ping(peerProbe, 'beta'), ping(localProbe, '.')]))).flat();
  };

  t.test('200 in one frame from a peer', async (t) => {
    const p = await rawConnect('127.0.50.3', '127.0.50.2', PEER_PORT);
    const session = await handshake(p, 'alpha', 'beta', loadOrCreateKeys(join(net.dir, 'alpha')), Buffer.from(net.hosts.get('beta')!.publicKey, 'base64'));
    t.teardown(() => p.sock.destroy());
    const dumps = requestAll(p, session, Array(DUMPS).fill(PATHOLOGICAL));
    const probes = await probeDuring(dumps);
    t.same(await dumps, Array(DUMPS).fill(EXPECTED), 'every dump got its matching pairs');
    t.ok(probes.length >= 2, 'probed while the dumps ran');
    t.same(probes, Array(probes.length).fill('beta'), 'every probe was answered within its deadline');
  });

  t.test('200 in one write from a local client', async (t) => {
    const dumps = Promise.all(Array.from({ length: DUMPS }, () => local.reply('.', PATHOLOGICAL)));
    const probes = await probeDuring(dumps);
    t.same(await dumps, Array(DUMPS).fill(EXPECTED), 'every dump got its matching pairs');
    t.ok(probes.length >= 2, 'probed while the dumps ran');
    t.same(probes, Array(probes.length).fill('beta'), 'every probe was answered within its deadline');
  });
});
