/**
 * The spool's promise, checked where it is kept: no client hears
 * `con_delayed` before its message is committed and synced to disk, and a
 * commit that fails answers `con_failed` and leaves no row behind.
 *
 *  - under strace, every `con_delayed` written to a client socket comes after
 *    an fsync/fdatasync of the spool's WAL that followed the WAL writes of
 *    its commit (group-commit path and behind-backlog path); skips, saying
 *    so, without strace;
 *  - a commit that cannot get the write lock (the test holds it) fails: the
 *    client hears `con_failed`, and once the lock is free nothing is queued.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { connect } from '../lib';
import { makeNetwork, query } from './helpers/network';
import { waitFor } from './helpers/wait';
import { hasStrace, NO_STRACE, repliesBeforeTheirSync, startTraced, walEventsOf } from './helpers/wal-trace';

t.test('no con_delayed before the sync that covers its row', { skip: hasStrace ? false : NO_STRACE }, async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.32.2' },
    { id: 'beta', ip: '127.0.32.3' },
  ]);
  const a = net.hosts.get('alpha')!;
  const traced = await startTraced(t, net, 'alpha');
  const c = await connect({ spool: a.spool });
  // One at a time, then 40 at once (one group commit), then more behind the backlog.
  t.equal(await c.critical('beta', 'log:d1:amy:one'), 'con_delayed');
  const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => c.critical('beta', `log:d1:amy:b${i}`)));
  t.same([...new Set(burst)], ['con_delayed']);
  t.equal(await c.critical('beta', 'log:d1:amy:last'), 'con_delayed');
  await traced.stop(c);

  const events = walEventsOf(traced.traceFile, 'spool.sqlite-wal', (text) => text.includes('con_delayed'));
  const replies = events.filter((e) => e.kind === 'reply');
  t.ok(replies.length >= 3, `con_delayed replies found in the trace (${replies.length} writes)`);
  t.same(repliesBeforeTheirSync(events), [], 'no con_delayed written before its commit was synced (trace lines listed)');
  t.equal(query(join(a.spool, 'spool.sqlite'), 'SELECT 1 FROM queue').length, 42, 'every acknowledged message is there');
});

t.test('a commit that fails answers con_failed and leaves no row', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'gamma', ip: '127.0.32.4' },
    { id: 'delta', ip: '127.0.32.5' },
  ]);
  const g = await net.start('gamma');
  const file = join(g.host.spool, 'spool.sqlite');
  t.equal(await g.call('delta', 'log:d1:amy:before', { critical: true }), 'con_delayed');

  // The test takes the write lock and keeps it: gamma's next commit cannot happen.
  const locker = new Database(file);
  locker.exec('BEGIN IMMEDIATE');
  const c = await g.client();
  const logFrom = g.stderr.length;
  t.equal(await c.critical('delta', 'log:d1:amy:during'), 'con_failed', 'the client is told it was not stored');
  const more = await Promise.all(Array.from({ length: 10 }, (_, i) => c.critical('delta', `log:d1:amy:during${i}`)));
  t.same([...new Set(more)], ['con_failed'], 'so is every client while the lock is held');
  t.equal(await c.reply('.', 'ping'), 'gamma', 'and the daemon keeps serving');
  const failures = g.stderr.slice(logFrom).filter((l) => l.includes('could not store a critical message'));
  t.same(
    failures.map((l) => l.replace(/^\S+ /, '')),
    ['error spool: could not store a critical message for delta: spool commit failed: database is locked'],
    'eleven failures, one log line (its repeats are summed up when the period ends)',
  );
  locker.exec('ROLLBACK');
  locker.close();

  t.same(query<{ command: string }>(file, 'SELECT command FROM queue ORDER BY seq').map((r) => r.command), ['log:d1:amy:before'], 'no row for the failed one');
  await waitFor('status shows the real depth', async () => (await g.status()).peers[0]!.queue === 1);
  t.equal(await c.critical('delta', 'log:d1:amy:after'), 'con_delayed', 'the next commit works');
  t.same(query<{ command: string }>(file, 'SELECT command FROM queue ORDER BY seq').map((r) => r.command), ['log:d1:amy:before', 'log:d1:amy:after']);
  await c.close();
});
