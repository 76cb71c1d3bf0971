/**
 * A passing fault on the receiver never sets the backlog aside: the
 * receiver's disk (a small tmpfs) fills while critical messages arrive, so it
 * answers `error:transient:…`; the sender keeps every message queued, holds
 * its backlog back with growing delays, and once the disk has room again
 * everything is applied exactly once, in order, with nothing set aside.
 *
 * Mounting a tmpfs needs root: without it this test says so and skips.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cannotMountTmpfs, fill, mountTmpfs } from './helpers/full-disk';
import { activityOf, makeNetwork, query } from './helpers/network';
import { waitFor } from './helpers/wait';

const why = cannotMountTmpfs();
t.test('a receiver whose disk is full for a while', { skip: why ? `cannot mount a tmpfs (${why}); this test needs root` : false }, async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.28.2' },
    { id: 'beta', ip: '127.0.28.3' },
  ]);
  const disk = join(net.dir, 'beta-disk');
  mountTmpfs(t, disk, '24m');
  cpSync(join(net.hosts.get('beta')!.spool, 'keys'), join(disk, 'keys'), { recursive: true });

  const a = await net.start('alpha', ['--critical-timeout-ms', '5000']);
  const b = await net.start('beta', ['--spool', disk]);
  t.teardown(() => b.stop('SIGKILL'));
  t.equal(await a.call('beta', 'log:d1:amy:before'), 'ok');

  const filler = join(disk, 'filler');
  t.ok(fill(filler) > 0, 'the disk is full');
  const texts = Array.from({ length: 40 }, (_, i) => `L${String(i).padStart(2, '0')}_${'x'.repeat(60_000)}`);
  const c = await a.client();
  const replies = await Promise.all(texts.map((text) => c.critical('beta', `log:d1:amy:${text}`)));
  await c.close();
  t.ok(replies.includes('con_delayed'), 'some could not be applied: spooled, not refused');
  t.same([...new Set(replies)].filter((r) => r !== 'ok' && r !== 'con_delayed'), [], 'every client heard ok or con_delayed');
  await a.waitForLog(/spool: beta could not apply #\d+ now \(error:transient:store commit failed\); kept, trying again in \d+ ms/);
  const spool = join(a.host.spool, 'spool.sqlite');
  t.same(query(spool, 'SELECT * FROM aside'), [], 'nothing set aside while the disk is full');

  rmSync(filler);
  await waitFor('the backlog delivered once the disk has room', () => query(spool, 'SELECT 1 FROM queue').length === 0, { timeoutMs: 60_000 });
  const applied = activityOf(disk).map((text) => text.slice(0, 3));
  t.same(applied, ['bef', ...texts.map((x) => x.slice(0, 3))], 'every message applied once, in order');
  t.same(query(spool, 'SELECT * FROM aside'), [], 'nothing set aside');
});
