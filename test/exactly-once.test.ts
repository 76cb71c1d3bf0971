/**
 * A reply lost between two daemons (cut by a real TCP proxy, not a hook in
 * the product): the sender spools the critical message and replays it; the
 * receiver recognises its id and answers the recorded reply, so `inc` is
 * applied exactly once.
 */
import { join } from 'node:path';
import t from 'tap';
import { startFaultProxy } from './helpers/fault-proxy';
import { makeNetwork, PEER_PORT, query } from './helpers/network';
import { waitFor } from './helpers/wait';

t.test('a lost reply does not apply a critical inc twice', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.3.2' },
    { id: 'beta', ip: '127.0.3.4' },
  ]);
  // alpha reaches beta through the proxy on .3; beta knows alpha at .2.
  const alphaView = net.writeHosts([net.line('alpha'), net.line('beta', '127.0.3.3')], join(net.dir, 'alpha-hosts.tab'));
  const proxy = await startFaultProxy({
    listen: { host: '127.0.3.3', port: PEER_PORT },
    upstream: { host: '127.0.3.4', port: PEER_PORT },
    localAddress: '127.0.3.2',
  });
  t.teardown(() => proxy.close());
  const b = await net.start('beta');
  const a = await net.start('alpha', ['--hosts', alphaView]);

  t.equal(await a.call('beta', 'ping'), 'beta', 'through the proxy');
  t.equal(await a.call('beta', 'inc:d1:amy:counts:n'), 'ok');

  proxy.dropNextReply();
  t.equal(await a.call('beta', 'inc:d1:amy:counts:n', { critical: true }), 'con_delayed', 'reply lost: spooled');
  t.equal(proxy.dropped, 1);
  const spool = join(a.host.spool, 'spool.sqlite');
  await waitFor('replayed and acknowledged', () => query(spool, 'SELECT 1 FROM queue').length === 0);
  await b.waitForLog(/already applied; answering the recorded reply/);
  t.equal(await a.call('beta', 'get:d1:amy:counts:n'), '2', 'applied once: 1 + 1, not 1 + 2');
  t.same(query(spool, 'SELECT * FROM aside'), [], 'nothing set aside');
});
