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
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { connect } from '../lib';
import { BIN, FAST_TIMINGS, makeNetwork, PEER_PORT, query } from './helpers/network';
import { waitFor } from './helpers/wait';

const hasStrace = spawnSync('strace', ['-V']).status === 0;

interface Event {
  readonly line: number;
  readonly kind: 'wal-write' | 'wal-sync' | 'reply';
}

/**
 * The WAL writes, completed WAL syncs and `con_delayed` replies of a trace
 * made with `strace -f -y -e trace=pwrite64,write,writev,fsync,fdatasync`, in
 * the order they completed.
 */
function eventsOf(trace: string): Event[] {
  const events: Event[] = [];
  const unfinishedSync = new Set<string>();
  trace.split('\n').forEach((text, line) => {
    const pid = /^(?:\[pid\s+)?(\d+)/.exec(text)?.[1] ?? '';
    const onWal = /<[^>]*spool\.sqlite-wal>/.test(text);
    if (/\b(fsync|fdatasync)\(/.test(text) && onWal) {
      if (text.includes('<unfinished')) unfinishedSync.add(pid);
      else if (/= 0$/.test(text)) events.push({ line, kind: 'wal-sync' });
    } else if (/<\.\.\. (fsync|fdatasync) resumed>.*= 0$/.test(text) && unfinishedSync.delete(pid)) {
      events.push({ line, kind: 'wal-sync' });
    } else if (/\bpwrite64\(/.test(text) && onWal) {
      events.push({ line, kind: 'wal-write' });
    } else if (/\b(write|writev)\(\d+<(UNIX|socket)/.test(text) && text.includes('con_delayed')) {
      events.push({ line, kind: 'reply' });
    }
  });
  return events;
}

t.test('no con_delayed before the sync that covers its row', { skip: hasStrace ? false : 'strace is not installed (apt-get install strace; .ci/run installs it)' }, async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.32.2' },
    { id: 'beta', ip: '127.0.32.3' },
  ]);
  const a = net.hosts.get('alpha')!;
  const traceFile = join(net.dir, 'alpha.strace');
  const proc = spawn(
    'strace',
    ['-f', '-y', '-e', 'trace=pwrite64,write,writev,fsync,fdatasync', '-s', '64', '-o', traceFile, process.execPath, BIN, 'start',
      '--host-id', 'alpha', '--spool', a.spool, '--hosts', net.hostsFile, '--port', String(PEER_PORT), '--http-port', '0', ...FAST_TIMINGS],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => proc.kill('SIGKILL'));
  await new Promise<void>((resolve) => proc.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  const c = await connect({ spool: a.spool });
  // One at a time, then 40 at once (one group commit), then more behind the backlog.
  t.equal(await c.critical('beta', 'log:d1:amy:one'), 'con_delayed');
  const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => c.critical('beta', `log:d1:amy:b${i}`)));
  t.same([...new Set(burst)], ['con_delayed']);
  t.equal(await c.critical('beta', 'log:d1:amy:last'), 'con_delayed');
  const { pid } = JSON.parse(await c.admin('status')) as { pid: number };
  await c.close();
  // Stop the daemon itself; strace ends with it.
  const exited = new Promise((r) => proc.on('exit', r));
  process.kill(pid, 'SIGTERM');
  await exited;

  const events = eventsOf(readFileSync(traceFile, 'utf8'));
  const replies = events.filter((e) => e.kind === 'reply');
  t.ok(replies.length >= 3, `con_delayed replies found in the trace (${replies.length} writes)`);
  for (const reply of replies) {
    const before = events.filter((e) => e.line < reply.line);
    const lastWrite = before.filter((e) => e.kind === 'wal-write').at(-1);
    const syncAfterWrite = before.some((e) => e.kind === 'wal-sync' && lastWrite !== undefined && e.line > lastWrite.line);
    if (!lastWrite || !syncAfterWrite) t.fail(`trace line ${reply.line + 1}: con_delayed written before its commit was synced`);
  }
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
  t.equal(await c.critical('delta', 'log:d1:amy:during'), 'con_failed', 'the client is told it was not stored');
  t.equal(await c.reply('.', 'ping'), 'gamma', 'and the daemon keeps serving');
  locker.exec('ROLLBACK');
  locker.close();

  t.same(query<{ command: string }>(file, 'SELECT command FROM queue ORDER BY seq').map((r) => r.command), ['log:d1:amy:before'], 'no row for the failed one');
  await waitFor('status shows the real depth', async () => (await g.status()).peers[0]!.queue === 1);
  t.equal(await c.critical('delta', 'log:d1:amy:after'), 'con_delayed', 'the next commit works');
  t.same(query<{ command: string }>(file, 'SELECT command FROM queue ORDER BY seq').map((r) => r.command), ['log:d1:amy:before', 'log:d1:amy:after']);
  await c.close();
});
