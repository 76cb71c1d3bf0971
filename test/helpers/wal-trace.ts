/**
 * A daemon run under strace, and what its trace says about one database's
 * WAL: the writes, the completed syncs, and the replies written to clients,
 * in the order they completed. The durability tests check with it that no
 * reply leaves before the sync that covers its commit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoncapadClient } from '../../lib';
import { startArgs, type Network, type Tap } from './network';

export const hasStrace = spawnSync('strace', ['-V']).status === 0;
export const NO_STRACE = 'strace is not installed (apt-get install strace; .ci/run installs it)';

export interface WalEvent {
  readonly line: number;
  readonly kind: 'wal-write' | 'wal-sync' | 'reply';
}

export interface TracedDaemon {
  /** Where strace writes. */
  readonly traceFile: string;
  /** Stop the daemon itself (its pid asked through `client`, which is closed); strace ends with it. */
  stop(client: LoncapadClient): Promise<void>;
}

/** Start daemon `id` of `net` under strace; resolves once it is ready. */
export async function startTraced(t: Tap, net: Network, id: string): Promise<TracedDaemon> {
  const traceFile = join(net.dir, `${id}.strace`);
  const proc = spawn(
    'strace',
    ['-f', '-y', '-e', 'trace=pwrite64,write,writev,fsync,fdatasync', '-s', '64', '-o', traceFile, process.execPath,
      ...startArgs(net.hosts.get(id)!, ['--hosts', net.hostsFile])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => proc.kill('SIGKILL'));
  const exited = new Promise((r) => proc.on('exit', r));
  await new Promise<void>((resolve) => proc.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  return {
    traceFile,
    stop: async (client) => {
      const { pid } = JSON.parse(await client.admin('status')) as { pid: number };
      await client.close();
      process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

/**
 * The writes to `walFile` (a file name such as `spool.sqlite-wal`), the
 * completed syncs of it, and the client replies `isReply` picks out, of a
 * trace made by startTraced, in the order they completed.
 */
export function walEventsOf(traceFile: string, walFile: string, isReply: (text: string) => boolean): WalEvent[] {
  const events: WalEvent[] = [];
  const unfinishedSync = new Set<string>();
  const onWal = (text: string): boolean => text.includes(`/${walFile}>`);
  readFileSync(traceFile, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const pid = /^(?:\[pid\s+)?(\d+)/.exec(text)?.[1] ?? '';
      if (/\b(fsync|fdatasync)\(/.test(text) && onWal(text)) {
        if (text.includes('<unfinished')) unfinishedSync.add(pid);
        else if (/= 0$/.test(text)) events.push({ line, kind: 'wal-sync' });
      } else if (/<\.\.\. (fsync|fdatasync) resumed>.*= 0$/.test(text) && unfinishedSync.delete(pid)) {
        events.push({ line, kind: 'wal-sync' });
      } else if (/\bpwrite64\(/.test(text) && onWal(text)) {
        events.push({ line, kind: 'wal-write' });
      } else if (/\b(write|writev)\(\d+<(UNIX|socket)/.test(text) && isReply(text)) {
        events.push({ line, kind: 'reply' });
      }
    });
  return events;
}

/** The replies (trace lines, 1-based) written before a WAL sync that followed the last WAL write before them. */
export function repliesBeforeTheirSync(events: readonly WalEvent[]): number[] {
  const early: number[] = [];
  for (const reply of events.filter((e) => e.kind === 'reply')) {
    const before = events.filter((e) => e.line < reply.line);
    const lastWrite = before.filter((e) => e.kind === 'wal-write').at(-1);
    const syncAfterWrite = before.some((e) => e.kind === 'wal-sync' && lastWrite !== undefined && e.line > lastWrite.line);
    if (!lastWrite || !syncAfterWrite) early.push(reply.line + 1);
  }
  return early;
}
