/**
 * Real loncapad daemons for tests: each a `bin/loncapad start` child process
 * on its own loopback address, with real keys, a real hosts table and real
 * SQLite files in the test's directory.
 *
 *   const net = await makeNetwork(t, [{ id: 'a', ip: '127.0.1.2' }, { id: 'b', ip: '127.0.1.3' }]);
 *   const a = await net.start('a');
 *   const c = await a.client();
 *   t.equal(await c.reply('b', 'ping'), 'b');
 *
 * Each test file uses its own 127.0.N.x block, so tap can run files in parallel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { connect, type LoncapadClient } from '../../lib';
import { loadOrCreateKeys, publicKeyBase64 } from '../../lib/config';
import type { DaemonStatus } from '../../lib/daemon';
import { waitFor } from './wait';

export const BIN = resolve(__dirname, '../../../bin/loncapad');
/**
 * Ports of the test daemons. LCD_TEST_PORT_OFFSET moves every test port at
 * once, so that two checkouts can run their suites side by side.
 */
export const TEST_PORT_OFFSET = Number(process.env.LCD_TEST_PORT_OFFSET ?? 0);
export const PEER_PORT = 15663 + TEST_PORT_OFFSET;
/** A web port for tests that need a fixed one (`base` is the file's own). */
export const webPort = (base: number): number => base + TEST_PORT_OFFSET;

/** Short timings so that failures and retries happen within a test. */
export const FAST_TIMINGS = [
  '--backoff-floor-ms', '20',
  '--backoff-ceiling-ms', '300',
  '--dead-after-failures', '3',
  '--connect-timeout-ms', '1000',
  '--ping-interval-ms', '2000',
  '--ping-timeout-ms', '2000',
  '--critical-timeout-ms', '3000',
  '--request-timeout-ms', '3000',
];

export interface HostSpec {
  readonly id: string;
  readonly ip: string;
  readonly role?: 'library' | 'access';
  readonly domain?: string;
}

export interface Tap {
  teardown(fn: () => unknown): void;
}

/**
 * A short directory of its own: socket paths must fit in sun_path (about
 * 104 bytes), which tap's descriptive testdir names overrun.
 */
export function shortTempDir(t: Tap): string {
  const dir = mkdtempSync(join(tmpdir(), 'lcd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Host extends Required<HostSpec> {
  readonly spool: string;
  readonly publicKey: string;
}

export interface Network {
  readonly dir: string;
  readonly hosts: Map<string, Host>;
  readonly hostsFile: string;
  /** A hosts-table line for `id` (optionally at another IP). */
  line(id: string, ip?: string): string;
  writeHosts(lines: readonly string[], file?: string): string;
  start(id: string, extra?: readonly string[]): Promise<Daemon>;
}

export interface Daemon {
  readonly host: Host;
  readonly proc: ChildProcess;
  readonly stderr: string[];
  client(): Promise<LoncapadClient>;
  /** One request through a fresh client (closed afterwards). */
  call(peer: string, command: string, opts?: { critical?: boolean; timeoutMs?: number }): Promise<string>;
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  status(): Promise<DaemonStatus>;
}

export async function makeNetwork(t: Tap, specs: readonly HostSpec[]): Promise<Network> {
  const dir = shortTempDir(t);
  const hosts = new Map<string, Host>();
  for (const s of specs) {
    const spool = join(dir, s.id);
    mkdirSync(spool, { recursive: true });
    const keys = loadOrCreateKeys(spool);
    hosts.set(s.id, { role: 'library', domain: 'd1', ...s, spool, publicKey: publicKeyBase64(keys) });
  }
  const line = (id: string, ip?: string): string => {
    const h = hosts.get(id)!;
    return `${h.id}:${h.domain}:${h.role}:${h.id}.example.org:${ip ?? h.ip}:${h.publicKey}`;
  };
  const writeHosts = (lines: readonly string[], file = join(dir, 'hosts.tab')): string => {
    writeFileSync(file, '# test network\n' + lines.join('\n') + '\n');
    return file;
  };
  const hostsFile = writeHosts(specs.map((s) => line(s.id)));
  const running = new Set<Daemon>();
  t.teardown(async () => {
    await Promise.all([...running].map((d) => d.stop('SIGKILL')));
  });
  return {
    dir,
    hosts,
    hostsFile,
    line,
    writeHosts,
    start: async (id, extra = []) => {
      const d = await startDaemon(hosts.get(id)!, extra.includes('--hosts') ? extra : ['--hosts', hostsFile, ...extra]);
      running.add(d);
      d.proc.once('exit', () => running.delete(d));
      return d;
    },
  };
}

/** The arguments after `node` that start `host` as the tests do (`args` last: they override). */
export function startArgs(host: Host, args: readonly string[]): string[] {
  return [BIN, 'start', '--host-id', host.id, '--spool', host.spool, '--port', String(PEER_PORT), '--http-port', '0', ...FAST_TIMINGS, ...args];
}

export async function startDaemon(host: Host, args: readonly string[]): Promise<Daemon> {
  const proc = spawn(process.execPath, startArgs(host, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  let partial = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => {
    const parts = (partial + s).split('\n');
    partial = parts.pop()!;
    stderr.push(...parts);
    if (process.env.LCD_TEST_LOG) for (const p of parts) process.stderr.write(`[${host.id}] ${p}\n`);
  });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const onData = (s: string) => {
      out += s;
      if (out.includes('ready ')) {
        proc.stdout!.off('data', onData);
        proc.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => reject(new Error(`loncapad ${host.id} exited (${code}) before ready:\n${stderr.join('\n')}`));
    proc.stdout!.on('data', onData);
    proc.once('exit', onExit);
  });
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const d: Daemon = {
    host,
    proc,
    stderr,
    client: () => connect({ spool: host.spool }),
    call: async (peer, command, opts = {}) => {
      const c = await connect({ spool: host.spool });
      try {
        const o = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs };
        return opts.critical ? await c.critical(peer, command, o) : await c.reply(peer, command, o);
      } finally {
        await c.close();
      }
    },
    waitForLog: (re, timeoutMs = 10_000) => waitFor(`log ${re} on ${host.id}`, () => stderr.find((l) => re.test(l)), { timeoutMs }),
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
    status: async () => JSON.parse(await d.call('.', 'status')),
  };
  return d;
}

/** Read-only look into a daemon's SQLite file (WAL: safe while it runs). */
export function query<T = Record<string, unknown>>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** The texts a user's activity log holds on a daemon, oldest first: what arrived, in the order it was applied. */
export function activityOf(spool: string, user = 'amy'): string[] {
  return query<{ text: string }>(join(spool, 'data.sqlite'), 'SELECT text FROM activity WHERE name = ? ORDER BY id', user).map((r) => r.text);
}
