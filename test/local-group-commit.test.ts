/**
 * Local writes to this host's own store (lib/commands/local-group-commit.ts),
 * in a real daemon (the batching rules exactly: local-group-commit-batches.test.ts):
 *
 *  - the writes of one turn share one commit and one WAL sync off the loop
 *    (before, each was its own commit with an fsync on the loop: no WAL
 *    sync was counted at all);
 *  - a get sent right behind a put, without waiting, reads the put;
 *  - under strace, no `ok` is written to a client before the sync of the
 *    store's WAL that covers its commit (skips, saying so, without strace);
 *  - a commit that cannot get the write lock answers a transient error,
 *    leaves nothing behind, and the daemon keeps serving;
 *  - on a full disk (a small tmpfs: root only, skips saying so) every write
 *    answers ok or a transient error, an acknowledged one is there and a
 *    refused one is not, and once there is room the writes succeed;
 *  - SIGKILL under 64 writers: every write acknowledged before is there
 *    after the restart (an `ok` answered before its commit is caught in
 *    most runs: the commit waits for the previous batch's sync).
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { connect } from '../lib';
import { transientReply } from '../lib/errors';
import { cannotMountTmpfs, fill, mountTmpfs } from './helpers/full-disk';
import { makeNetwork, query } from './helpers/network';
import { waitFor } from './helpers/wait';
import { hasStrace, NO_STRACE, repliesBeforeTheirSync, startTraced, walEventsOf } from './helpers/wal-trace';

const PUTS = 40;

t.test('the local writes of one turn share one commit and one sync', async (t) => {
  const net = await makeNetwork(t, [{ id: 'lg', ip: '127.0.79.2' }]);
  const d = await net.start('lg');
  const c = await d.client();
  t.equal((await d.status()).walSyncs.store.syncs, 0, 'nothing written yet');
  const replies = await Promise.all(Array.from({ length: PUTS }, (_, i) => c.reply('.', `put:d1:amy:grades:k${i}=v${i}`)));
  t.same([...new Set(replies)], ['ok']);
  const syncs = (await d.status()).walSyncs.store.syncs;
  t.ok(syncs >= 1 && syncs <= 4, `${PUTS} puts sent at once were made durable by ${syncs} WAL sync(s) off the loop`);
  const keys = Array.from({ length: PUTS }, (_, i) => `k${i}`).join('&');
  t.equal(await c.reply('.', `get:d1:amy:grades:${keys}`), Array.from({ length: PUTS }, (_, i) => `v${i}`).join('&'));
  await c.close();
});

t.test('a get sent right behind a put reads it', async (t) => {
  const net = await makeNetwork(t, [{ id: 'lo', ip: '127.0.79.3' }]);
  const d = await net.start('lo');
  const c = await d.client();
  t.equal(await c.reply('.', 'put:d1:amy:grades:hw1=first'), 'ok');
  // Both lines leave in one write and arrive in one read: the get must wait for the put.
  t.same(await Promise.all([c.reply('.', 'put:d1:amy:grades:hw1=second'), c.reply('.', 'get:d1:amy:grades:hw1')]), ['ok', 'second']);
  t.same(await Promise.all([c.reply('.', 'del:d1:amy:grades:hw1'), c.reply('.', 'get:d1:amy:grades:hw1'), c.reply('.', 'ping')]), ['ok', '', 'lo']);
  await c.close();
});

t.test('no local ok before the sync that covers its write', { skip: hasStrace ? false : NO_STRACE }, async (t) => {
  const net = await makeNetwork(t, [{ id: 'ls', ip: '127.0.79.4' }]);
  const h = net.hosts.get('ls')!;
  const traced = await startTraced(t, net, 'ls');
  const c = await connect({ spool: h.spool });
  t.equal(await c.reply('.', 'put:d1:amy:grades:one=1'), 'ok');
  const burst = await Promise.all(Array.from({ length: PUTS }, (_, i) => c.reply('.', `put:d1:amy:grades:b${i}=${i}`)));
  t.same([...new Set(burst)], ['ok']);
  t.equal(await c.reply('.', 'log:d1:amy:done'), 'ok');
  await traced.stop(c);

  // A reply line on the local socket is `<id> ok`.
  const events = walEventsOf(traced.traceFile, 'data.sqlite-wal', (text) => /"\d+ ok\\n/.test(text));
  const replies = events.filter((e) => e.kind === 'reply');
  t.ok(replies.length >= 3, `ok replies found in the trace (${replies.length} writes)`);
  t.same(repliesBeforeTheirSync(events), [], 'no ok written before its commit was synced (trace lines listed)');
  t.equal(query(join(h.spool, 'data.sqlite'), "SELECT 1 FROM kv WHERE ns = 'grades'").length, PUTS + 1, 'every acknowledged write is there');
});

t.test('a local commit that cannot be made answers a transient error, leaves nothing, and is logged once', async (t) => {
  const net = await makeNetwork(t, [{ id: 'll', ip: '127.0.79.5' }]);
  const d = await net.start('ll', ['--log-repeat-ms', '500']);
  const c = await d.client();
  t.equal(await c.reply('.', 'put:d1:amy:grades:before=1'), 'ok');
  const file = join(d.host.spool, 'data.sqlite');
  // The test takes the write lock and keeps it, as an operator's sqlite3 in a write transaction would.
  const locker = new Database(file);
  locker.exec('BEGIN IMMEDIATE');
  const logFrom = d.stderr.length;
  const during = await Promise.all(Array.from({ length: 20 }, (_, i) => c.reply('.', `put:d1:amy:grades:during${i}=2`)));
  t.same([...new Set(during)], [transientReply('store busy: another process holds its write lock')], 'each client is told why, and to try again');
  t.equal(await c.reply('.', 'ping'), 'll', 'and the daemon keeps serving');
  // Twenty failures: one line when the first happens, one summing up the rest when the period ends; no stack.
  await d.waitForLog(/error put failed: store busy: another process holds its write lock: database is locked \(19 more times in the last 500 ms\)$/);
  const failures = d.stderr.slice(logFrom).filter((l) => l.includes('put failed'));
  t.equal(failures.length, 2, 'two log lines for twenty failures');
  t.match(failures[0], /error put failed: store busy: another process holds its write lock: database is locked$/);
  t.notMatch(d.stderr.slice(logFrom).join('\n'), /\bat .*\.js:\d+/, 'no stack trace: a busy store is not a bug');
  locker.exec('ROLLBACK');
  locker.close();
  t.same(query<{ key: string }>(file, "SELECT key FROM kv WHERE ns = 'grades' ORDER BY key").map((r) => r.key), ['before'], 'nothing of the failed writes');
  t.equal(await c.reply('.', 'put:d1:amy:grades:after=3'), 'ok', 'the next write works');
  await c.close();
});

const noTmpfs = cannotMountTmpfs();
t.test('local writes on a full disk', { skip: noTmpfs ? `cannot mount a tmpfs (${noTmpfs}); this test needs root` : false }, async (t) => {
  const net = await makeNetwork(t, [{ id: 'lf', ip: '127.0.79.6' }]);
  const disk = join(net.dir, 'lf-disk');
  mountTmpfs(t, disk, '24m');
  cpSync(join(net.hosts.get('lf')!.spool, 'keys'), join(disk, 'keys'), { recursive: true });
  const d = await net.start('lf', ['--spool', disk]);
  t.teardown(() => d.stop('SIGKILL'));
  const c = await connect({ spool: disk });
  t.equal(await c.reply('.', 'put:d1:amy:big:before=1'), 'ok');

  const filler = join(disk, 'filler');
  t.ok(fill(filler) > 0, 'the disk is full');
  const value = (i: number): string => `${i}_${'x'.repeat(60_000)}`;
  const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => c.reply('.', `put:d1:amy:big:k${i}=${value(i)}`)));
  t.same(replies.filter((r) => r !== 'ok' && !r.startsWith('error:transient:')), [], 'every write answered ok or a transient error');
  t.ok(replies.some((r) => r !== 'ok'), 'some were refused: the disk is full');
  t.equal(await c.reply('.', 'ping'), 'lf', 'the daemon keeps serving');
  const stored = new Map(query<{ key: string; value: string }>(join(disk, 'data.sqlite'), "SELECT key, value FROM kv WHERE ns = 'big'").map((r) => [r.key, r.value]));
  replies.forEach((r, i) => {
    if (r === 'ok') t.equal(stored.get(`k${i}`), value(i), `k${i} acknowledged and there`);
    else t.notOk(stored.has(`k${i}`), `k${i} refused and not there`);
  });

  rmSync(filler);
  const again = await Promise.all(replies.map((r, i) => (r === 'ok' ? 'ok' : c.reply('.', `put:d1:amy:big:k${i}=${value(i)}`))));
  t.same([...new Set(again)], ['ok'], 'with room again, every write succeeds');
  await c.close();
});

t.test('no acknowledged local write is lost when the daemon is killed mid-stream', async (t) => {
  const net = await makeNetwork(t, [{ id: 'lk', ip: '127.0.79.7' }]);
  let d = await net.start('lk');
  const c = await d.client();
  const acked: number[] = [];
  let next = 0;
  let killed = false;
  // 64 writers, each a new key at a time, until the daemon dies under them.
  const writers = Array.from({ length: 64 }, async () => {
    while (!killed) {
      const i = next++;
      const reply = await c.reply('.', `put:d1:amy:kill:k${i}=v${i}`).catch(() => 'gone');
      if (reply === 'ok') acked.push(i);
      else if (!killed) throw new Error(`k${i} answered ${reply} before the kill`);
    }
  });
  await waitFor('a few hundred writes acknowledged', () => acked.length >= 500);
  killed = true;
  await d.stop('SIGKILL');
  await Promise.all(writers);
  await c.close().catch(() => undefined);

  d = await net.start('lk');
  const stored = new Set(query<{ key: string }>(join(d.host.spool, 'data.sqlite'), "SELECT key FROM kv WHERE ns = 'kill'").map((r) => r.key));
  const lost = acked.filter((i) => !stored.has(`k${i}`));
  t.same(lost, [], `all ${acked.length} acknowledged writes are there after the restart`);
  t.equal(await d.call('.', `get:d1:amy:kill:k${acked.at(-1)!}`), `v${acked.at(-1)!}`);
});
