/**
 * 1,000 peers per daemon (`npm run bench -- --only scale`): one real daemon
 * (`bin/loncapad start`, its own spool, no web server) and 1,000 peers
 * listed in its hosts table, each with its own key at its own loopback
 * address (127.2.x.y), hosted by a few helper processes (scale-peers.ts)
 * that speak the real wire protocol. Both directions of every link are
 * up, as in a real network: each peer's link to the daemon (an inbound
 * session there) and the daemon's link to each peer (opened by one `ping`
 * through it from a local client and kept by a long --idle-timeout-ms).
 *
 * One round, in order:
 *   1. the daemon starts; its announcement finds nobody listening and every
 *      link goes back to idle → RSS with no link ("none");
 *   2. the helpers start and connect all their peers at once, while a local
 *      client sends one `ping` through each of the daemon's 1,000 links
 *      → time until all 2,000 connections are up (`up_ms`);
 *   3. settle → RSS with all up; (RSS up − RSS none) / peers (`rss_per_link_bytes`);
 *   4. idle with keep-alives flowing both ways → CPU from /proc/<pid>/stat
 *      utime+stime over the window (`idle_cpu_pct`, % of one core);
 *   5. a local client pings one peer through its link, 1 in flight, while
 *      all are up (`ping_p99_us`);
 *   6. the daemon is killed (SIGKILL) and started again at once; every
 *      peer reconnects with the daemon's own backoff and its admission
 *      limits spread the storm, while a local client pings the daemon
 *      itself (`.` ping) → its p99 (`reconnect_ping_p99_us`) and the time
 *      from the kill until all 1,000 peers are back (`reconnect_ms`).
 * Rounds repeat with a fresh daemon and fresh helpers; figures are medians.
 *
 * Options (after `--`): --scale-peers N (1000), --scale-helpers N (4),
 * --scale-rounds N (2), --scale-idle-ms N (30000), --scale-logs DIR (keep
 * the daemon's logs there), --scale-profile DIR (also
 * write CPU profiles of bring-up, idle and reconnect, heap snapshots with
 * none and all up, and their summaries; figures of a profiled run are
 * disturbed by the profiler, so keep them apart).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, copyFileSync, existsSync, readdirSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { connect } from '../../lib';
import { loadOrCreateKeys, publicKeyBase64 } from '../../lib/config';
import { ANNOUNCE_PER_TICK, ANNOUNCE_TICK_MS } from '../../lib/peers/announce';
import { DEFAULT_ADMISSION } from '../../lib/peers/admission';
import { BIN, type Tap } from '../helpers/network';
import { waitFor } from '../helpers/wait';
import { closedLoop } from './measure';
import { heapGrowth, inclusiveTop, longestStalls, summarizeCpuProfile } from './profile-summary';
import type { HelperConfig, HelperCounts, PeerSpec } from './scale-peers';

/** Outside the tests' ports (15663 + offsets, 18xxx) and addresses (127.0.x.y). */
const PORT = 16663;
const DAEMON_IP = '127.2.0.1';
const DAEMON_ID = 'hub';
/** Peers per third octet: 127.2.1.1 … 127.2.1.250, 127.2.2.1 … */
const PEERS_PER_OCTET = 250;
/** The daemon's defaults, written out so that the helpers use the same (docs/configuration.md). */
const PING_INTERVAL_MS = 30_000;
const PING_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
const BACKOFF = { floorMs: 250, ceilingMs: 60_000 };
const DEAD_AFTER_FAILURES = 3;
/** Longest setting there is: the daemon's outbound links must not close for idleness during the bench. */
const IDLE_TIMEOUT_MS = 86_400_000;
/** Quiet time before each memory reading, so that the last handshakes' garbage is not counted. */
const SETTLE_MS = 5_000;
/** RSS is read this many times, this far apart, and the median kept. */
const RSS_SAMPLES = 5;
const RSS_EVERY_MS = 200;
const PING_COUNT = 10_000;
const PING_WARMUP = 2_000;
/** Local pings per second while the links come up or reconnect (LocalPinger). */
const PROBE_PINGS_PER_S = 200;
/** The reconnect storm is given this long to end; past it the round fails. */
const RECONNECT_DEADLINE_MS = 180_000;

interface Options {
  peers: number;
  helpers: number;
  rounds: number;
  idleMs: number;
  profileDir: string | undefined;
  logDir: string | undefined;
}

function options(argv: readonly string[]): Options {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  return {
    peers: Number(arg('--scale-peers') ?? 1000),
    helpers: Number(arg('--scale-helpers') ?? 4),
    rounds: Number(arg('--scale-rounds') ?? 2),
    idleMs: Number(arg('--scale-idle-ms') ?? 30_000),
    profileDir: arg('--scale-profile'),
    logDir: arg('--scale-logs'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---- limits -------------------------------------------------------------------

/** The soft and hard limit on open files of this process (children inherit them). */
function fdLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))!;
  const [soft, hard] = line
    .replace('Max open files', '')
    .trim()
    .split(/\s+/)
    .map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft!, hard: hard! };
}

/**
 * `cmd args` with at least `need` file descriptors: as it is when the
 * inherited limit is enough, else through prlimit (root may raise the hard
 * limit too).
 */
function withFds(need: number, cmd: string, args: readonly string[]): [string, string[]] {
  const { soft } = fdLimits();
  if (soft >= need) return [cmd, [...args]];
  return ['prlimit', [`--nofile=${need}:${need}`, '--', cmd, ...args]];
}

// ---- the network ---------------------------------------------------------------

interface Network {
  readonly dir: string;
  readonly spool: string;
  readonly hostsFile: string;
  readonly peers: PeerSpec[];
  readonly daemonKey: string;
}

function peerIp(i: number): string {
  return `127.2.${1 + Math.floor(i / PEERS_PER_OCTET)}.${1 + (i % PEERS_PER_OCTET)}`;
}

function makeNetwork(t: Tap, n: number): Network {
  const dir = mkdtempSync(join(tmpdir(), 'lcd-scale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spool = join(dir, 'hub');
  mkdirSync(spool);
  const daemonKey = publicKeyBase64(loadOrCreateKeys(spool));
  const peers: PeerSpec[] = [];
  for (let i = 0; i < n; i++) {
    const kp = nacl.box.keyPair();
    peers.push({ id: `p${i}`, ip: peerIp(i), publicKey: Buffer.from(kp.publicKey).toString('base64'), secretKey: Buffer.from(kp.secretKey).toString('base64') });
  }
  const lines = [`${DAEMON_ID}:d1:library:hub.example.org:${DAEMON_IP}:${daemonKey}`, ...peers.map((p) => `${p.id}:d1:access:${p.id}.example.org:${p.ip}:${p.publicKey}`)];
  const hostsFile = join(dir, 'hosts.tab');
  writeFileSync(hostsFile, `# scale bench: one daemon and ${n} peers\n${lines.join('\n')}\n`);
  return { dir, spool, hostsFile, peers, daemonKey };
}

// ---- the daemon ------------------------------------------------------------------

/** The daemon under test: a child process with the probe (scale-probe.ts) loaded, its log in a file. */
class ScaleDaemon {
  private constructor(
    readonly proc: ChildProcess,
    readonly probeDir: string,
    readonly exited: Promise<unknown>,
    /** From spawn to `ready`, ms. */
    readonly startMs: number,
  ) {}

  /** Start it and resolve once it prints `ready` (with how long that took, ms). */
  static async start(
    net: Network,
    fdsNeeded: number,
    logName: string,
    { env = {}, nodeFlags = [] }: { env?: Record<string, string>; nodeFlags?: readonly string[] } = {},
  ): Promise<ScaleDaemon> {
    const probeDir = mkdtempSync(join(net.dir, 'probe-'));
    const log = openSync(join(net.dir, logName), 'a');
    const args = [
      ...nodeFlags,
      '--require', join(__dirname, 'scale-probe.js'),
      BIN, 'start',
      '--host-id', DAEMON_ID,
      '--spool', net.spool,
      '--hosts', net.hostsFile,
      '--port', String(PORT),
      '--http-port', '0',
      '--idle-timeout-ms', String(IDLE_TIMEOUT_MS),
      '--ping-interval-ms', String(PING_INTERVAL_MS),
      '--ping-timeout-ms', String(PING_TIMEOUT_MS),
      '--connect-timeout-ms', String(CONNECT_TIMEOUT_MS),
      '--backoff-floor-ms', String(BACKOFF.floorMs),
      '--backoff-ceiling-ms', String(BACKOFF.ceilingMs),
      '--dead-after-failures', String(DEAD_AFTER_FAILURES),
    ];
    const [cmd, argv] = withFds(fdsNeeded, process.execPath, args);
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', log], env: { ...process.env, ...env, LCD_PROBE_DIR: probeDir } });
    closeSync(log);
    const exited = once(proc, 'exit');
    let out = '';
    proc.stdout!.setEncoding('utf8');
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      const onData = (s: string): void => {
        out += s;
        if (out.includes('ready ')) {
          proc.stdout!.off('data', onData);
          proc.off('exit', onExit);
          proc.stdout!.resume();
          resolve();
        }
      };
      const onExit = (code: number | null): void => reject(new Error(`the scale daemon exited (${code}) before ready; see ${join(net.dir, logName)}`));
      proc.stdout!.on('data', onData);
      proc.once('exit', onExit);
    });
    return new ScaleDaemon(proc, probeDir, exited, Date.now() - t0);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Resident set size now, bytes (/proc/<pid>/status VmRSS). */
  rss(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))!;
    return Number(m[1]) * 1024;
  }

  /** The median of a few RSS readings. */
  async rssMedian(): Promise<number> {
    const xs: number[] = [];
    for (let i = 0; i < RSS_SAMPLES; i++) {
      xs.push(this.rss());
      await sleep(RSS_EVERY_MS);
    }
    return median(xs);
  }

  /** CPU time used so far, clock ticks (utime + stime of /proc/<pid>/stat). */
  cpuTicks(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  }

  /** One probe command (scale-probe.ts); resolves with its answer. */
  async probe<T = Record<string, unknown>>(cmd: string, timeoutMs = 60_000): Promise<T> {
    const out = join(this.probeDir, 'out.json');
    if (existsSync(out)) unlinkSync(out);
    writeFileSync(join(this.probeDir, 'cmd'), cmd);
    this.proc.kill('SIGUSR2');
    await waitFor(`probe ${cmd}`, () => existsSync(out), { timeoutMs, everyMs: 20 });
    const answer = JSON.parse(readFileSync(out, 'utf8')) as T & { error?: string };
    if (answer.error) throw new Error(`probe ${cmd}: ${answer.error}`);
    return answer;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    await this.exited;
  }
}

/**
 * A local client pinging the daemon itself (`.` ping) from the moment its
 * client socket accepts until `stop`: what every local process of the host
 * sees meanwhile. The pings go out at a fixed rate, PROBE_PINGS_PER_S,
 * whether or not earlier ones were answered, and each one's latency counts
 * from when it was due: a closed loop would send one ping during a stall
 * of the loop and thousands in the quiet moments around it, and its p99
 * would hide the stall (coordinated omission). So the p99 here says: at
 * 99 % of moments, a request sent then was answered within this.
 *
 * Connecting is retried, so that a pinger started with the daemon catches
 * the first moments after a restart, when the peers are already knocking
 * (the peer listener opens just before the client socket, well before
 * `ready`).
 */
class LocalPinger {
  readonly latUs: number[] = [];
  /** When the first connect succeeded (Date.now()). */
  connectedAt = 0;
  #done = false;
  #error: Error | undefined;
  readonly #loop: Promise<void>;

  constructor(spool: string) {
    this.#loop = this.#run(spool).catch((err: Error) => {
      this.#error = err;
    });
  }

  async #run(spool: string): Promise<void> {
    let c: Awaited<ReturnType<typeof connect>> | undefined;
    while (!c && !this.#done) {
      try {
        c = await connect({ spool });
      } catch {
        await sleep(5);
      }
    }
    if (!c) return;
    this.connectedAt = Date.now();
    const client = c;
    const everyNs = BigInt(Math.round(1e9 / PROBE_PINGS_PER_S));
    let due = process.hrtime.bigint();
    const inFlight = new Set<Promise<void>>();
    const send = (dueAt: bigint): void => {
      const tracked: Promise<void> = client
        .reply('.', 'ping')
        .then((reply) => {
          this.latUs.push(Number(process.hrtime.bigint() - dueAt) / 1e3);
          // `ping` to the daemon itself answers its own lonid.
          if (reply !== DAEMON_ID) throw new Error(`local ping answered ${reply}`);
        })
        .catch((err: Error) => {
          this.#error ??= err;
          this.#done = true;
        })
        .finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };
    try {
      while (!this.#done) {
        // Every ping that is due by now, even when this timer fired late.
        for (const now = process.hrtime.bigint(); due <= now; due += everyNs) send(due);
        await sleep(1);
      }
      await Promise.all(inFlight);
    } finally {
      await client.close();
    }
  }

  async stop(): Promise<{ count: number; p50Us: number; p99Us: number; maxUs: number }> {
    this.#done = true;
    await this.#loop;
    if (this.#error) throw this.#error;
    const lat = [...this.latUs].sort((a, b) => a - b);
    if (lat.length === 0) return { count: 0, p50Us: NaN, p99Us: NaN, maxUs: NaN };
    return { count: lat.length, p50Us: Math.round(pct(lat, 50)), p99Us: Math.round(pct(lat, 99)), maxUs: Math.round(lat[lat.length - 1]!) };
  }
}

// ---- the helpers ------------------------------------------------------------------

class Helpers {
  readonly #procs: ChildProcess[] = [];
  readonly #waiters = new Map<ChildProcess, Array<{ ev: string; resolve: (m: Record<string, unknown>) => void }>>();

  static async start(net: Network, o: Options, fdsPerHelper: number): Promise<Helpers> {
    const h = new Helpers();
    const per = Math.ceil(o.peers / o.helpers);
    for (let i = 0; i < o.helpers; i++) {
      const cfg: HelperConfig = {
        daemon: { id: DAEMON_ID, ip: DAEMON_IP, publicKey: net.daemonKey },
        port: PORT,
        peers: net.peers.slice(i * per, (i + 1) * per),
        pingIntervalMs: PING_INTERVAL_MS,
        pingTimeoutMs: PING_TIMEOUT_MS,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        backoff: BACKOFF,
        deadAfterFailures: DEAD_AFTER_FAILURES,
      };
      const file = join(net.dir, `helper-${i}.json`);
      writeFileSync(file, JSON.stringify(cfg));
      const [cmd, argv] = withFds(fdsPerHelper, process.execPath, [join(__dirname, 'scale-peers.js'), file]);
      // Not fork(), which only runs node itself: spawn with an IPC channel reaches node through prlimit too.
      const p = spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      h.#waiters.set(p, []);
      p.on('message', (m: Record<string, unknown>) => {
        const ws = h.#waiters.get(p)!;
        const i2 = ws.findIndex((w) => w.ev === m.ev);
        if (i2 >= 0) ws.splice(i2, 1)[0]!.resolve(m);
        else if (m.ev === 'error') process.stderr.write(`scale helper: ${String(m.message)}\n`);
      });
      h.#procs.push(p);
    }
    await h.#all('started', undefined);
    await h.#all('listening', 'listen');
    return h;
  }

  #ask(p: ChildProcess, ev: string, cmd: string | undefined): Promise<Record<string, unknown>> {
    const got = new Promise<Record<string, unknown>>((resolve) => this.#waiters.get(p)!.push({ ev, resolve }));
    if (cmd) p.send({ cmd });
    return got;
  }

  #all(ev: string, cmd: string | undefined): Promise<Array<Record<string, unknown>>> {
    return Promise.all(this.#procs.map((p) => this.#ask(p, ev, cmd)));
  }

  send(cmd: string): void {
    for (const p of this.#procs) p.send({ cmd });
  }

  async mark(): Promise<void> {
    await this.#all('marked', 'mark');
  }

  /** Every helper's counts, summed. */
  async counts(): Promise<HelperCounts> {
    const all = (await this.#all('counts', 'counts')) as unknown as HelperCounts[];
    const sum = (f: (c: HelperCounts) => number): number => all.reduce((s, c) => s + f(c), 0);
    const latest = (f: (c: HelperCounts) => number | null): number | null => (all.every((c) => f(c) !== null) ? Math.max(...all.map((c) => f(c)!)) : null);
    const merge = (f: (c: HelperCounts) => Readonly<Record<string, number>>): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const c of all) for (const [k, v] of Object.entries(f(c))) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    return {
      ev: 'counts',
      peers: sum((c) => c.peers),
      outboundUp: sum((c) => c.outboundUp),
      inboundUp: sum((c) => c.inboundUp),
      outboundAllUpAt: latest((c) => c.outboundAllUpAt),
      outboundUpAtSinceMark: all.flatMap((c) => c.outboundUpAtSinceMark),
      inboundPeersSinceMark: sum((c) => c.inboundPeersSinceMark),
      inboundAllSinceMarkAt: latest((c) => c.inboundAllSinceMarkAt),
      failures: merge((c) => c.failures),
      pingsSent: sum((c) => c.pingsSent),
      pongsReceived: sum((c) => c.pongsReceived),
      pingsAnswered: sum((c) => c.pingsAnswered),
      states: merge((c) => c.states),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#procs.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const gone = once(p, 'exit');
        p.send({ cmd: 'exit' });
        await gone;
      }),
    );
  }
}

// ---- one round -----------------------------------------------------------------------

export interface RoundFigures {
  upMs: number;
  upInboundMs: number;
  upOutboundMs: number;
  rssNone: number;
  rssUp: number;
  rssPerLink: number;
  rssPerLinkNoGc: number;
  idleCpuPct: number;
  idleKeepalivesPerS: number;
  pingP50Us: number;
  pingP99Us: number;
  pingRate: number;
  restartReadyMs: number;
  reconnectMs: number;
  reconnectP50Ms: number;
  reconnectP90Ms: number;
  announceMs: number;
  reconnectPings: number;
  reconnectPingP50Us: number;
  reconnectPingP99Us: number;
  reconnectPingMaxUs: number;
  failures: Record<string, number>;
  load: string;
  startMs: number;
  clientSocketMs: number;
  upPingP99Us: number;
}

/** The probe's event-loop delay figures, ms. */
interface LoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

interface Profiling {
  readonly dir: string;
  readonly round: number;
}

async function profileStart(d: ScaleDaemon, p: Profiling | undefined): Promise<void> {
  if (p) await d.probe('prof-start');
}

async function profileStop(d: ScaleDaemon, p: Profiling | undefined, phase: string): Promise<void> {
  if (p) await d.probe(`prof-stop ${join(p.dir, `round${p.round}-${phase}.cpuprofile`)}`);
}

async function round(t: Tap, say: (line: string) => void, net: Network, o: Options, r: number): Promise<RoundFigures> {
  const n = o.peers;
  const prof = o.profileDir ? { dir: o.profileDir, round: r } : undefined;
  const load0 = loadavg()[0]!;
  // The daemon holds a classic UNIX socket per host, and two TCP connections per peer.
  const daemonFds = 3 * n + 256;
  const helperFds = 3 * Math.ceil(n / o.helpers) + 256;

  // 1. No link: the announcement has failed to every peer (nobody listens yet) and every link is idle.
  const d1 = await ScaleDaemon.start(net, daemonFds, `daemon-round${r}.log`);
  t.teardown(() => d1.kill('SIGKILL'));
  const admin = await connect({ spool: net.spool });
  const announceMs = Math.ceil(n / ANNOUNCE_PER_TICK) * ANNOUNCE_TICK_MS;
  await sleep(announceMs);
  await waitFor(
    'every link idle after the announcement',
    async () => (JSON.parse(await admin.admin('status')) as { peers: Array<{ state: string }> }).peers.every((p) => p.state === 'idle'),
    { timeoutMs: 60_000, everyMs: 500 },
  );
  await admin.close();
  await sleep(SETTLE_MS);
  const rssNone = await d1.rssMedian();
  const memNone = await d1.probe<{ memory: NodeJS.MemoryUsage; resources: Record<string, number> }>('mem');
  if (prof) await d1.probe(`heap ${join(prof.dir, `round${r}-none.heapsnapshot`)}`);

  // 2. Bring-up: every peer connects to the daemon, and the daemon to every peer (one ping each).
  const helpers = await Helpers.start(net, o, helperFds);
  t.teardown(() => helpers.stop());
  const client = await connect({ spool: net.spool });
  t.teardown(() => client.close());
  await profileStart(d1, prof);
  const upPinger = new LocalPinger(net.spool);
  await waitFor('local pinger connected', () => upPinger.connectedAt > 0);
  await d1.probe('eld-start');
  const t0 = Date.now();
  helpers.send('connect');
  let upOutboundAt = 0;
  let wrong = 0;
  const outbound = Promise.all(
    net.peers.map(async (p) => {
      const reply = await client.reply(p.id, 'ping', { timeoutMs: 120_000 });
      if (reply !== p.id) wrong++;
      upOutboundAt = Math.max(upOutboundAt, Date.now());
    }),
  );
  const inbound = await waitFor('every peer connected to the daemon', async () => (await helpers.counts()).outboundAllUpAt, { timeoutMs: 180_000, everyMs: 50 });
  await outbound;
  const upPing = await upPinger.stop();
  const upLoop = await d1.probe<LoopDelay>('eld');
  if (wrong > 0) throw new Error(`${wrong} pings through the daemon's links got a wrong reply`);
  await profileStop(d1, prof, 'bringup');
  const upInboundMs = inbound - t0;
  const upOutboundMs = upOutboundAt - t0;
  const upMs = Math.max(upInboundMs, upOutboundMs);
  const afterUp = await helpers.counts();
  const upAt = afterUp.outboundUpAtSinceMark.map((at) => at - t0).sort((a, b) => a - b);
  const late = upAt.filter((ms) => ms > BACKOFF.ceilingMs / 2).length;
  say(
    `  round ${r}: all ${n} peers up in ${upMs} ms (their links to the daemon ${upInboundMs} ms, the daemon's links to them ${upOutboundMs} ms); ` +
      `each peer's link up after p50 ${pct(upAt, 50)}, p90 ${pct(upAt, 90)}, max ${upAt[upAt.length - 1]} ms` +
      (late > 0 ? ` (${late} after more than ${BACKOFF.ceilingMs / 2000} s: marked dead, retried at the ${BACKOFF.ceilingMs / 1000} s ceiling)` : '') +
      `; failed attempts ${JSON.stringify(afterUp.failures)}; local pings meanwhile ${upPing.count}: p50 ${upPing.p50Us} µs, p99 ${upPing.p99Us} µs, max ${upPing.maxUs} µs; ` +
      `the daemon's loop delay p50 ${upLoop.p50Ms} ms, p99 ${upLoop.p99Ms} ms, max ${upLoop.maxMs} ms`,
  );

  // 3. Memory with every link up and idle.
  await sleep(SETTLE_MS);
  const settled = await helpers.counts();
  if (settled.outboundUp !== n || settled.inboundUp !== n) throw new Error(`links fell: ${settled.outboundUp} peer links and ${settled.inboundUp} daemon links up`);
  const rssUp = await d1.rssMedian();
  const memUp = await d1.probe<{ memory: NodeJS.MemoryUsage; resources: Record<string, number> }>('mem');
  if (prof) await d1.probe(`heap ${join(prof.dir, `round${r}-up.heapsnapshot`)}`);
  // Read after a full GC in both states: plain readings swing by ±15 MB with the garbage of the
  // last handshakes (one reading of "none" came out higher than "all up"). Both are printed.
  const rssPerLink = Math.round((memUp.memory.rss - memNone.memory.rss) / n);
  const rssPerLinkNoGc = Math.round((rssUp - rssNone) / n);
  const perLink = (f: (m: NodeJS.MemoryUsage) => number): string => `${((f(memUp.memory) - f(memNone.memory)) / n / 1024).toFixed(1)} KiB`;
  say(
    `  round ${r}: after a full GC, RSS ${(memNone.memory.rss / 2 ** 20).toFixed(1)} MiB with no link → ${(memUp.memory.rss / 2 ** 20).toFixed(1)} MiB ` +
      `with ${2 * n} connections: ${(rssPerLink / 1024).toFixed(1)} KiB per peer (heapUsed ${perLink((m) => m.heapUsed)}, heapTotal ${perLink((m) => m.heapTotal)}, ` +
      `external ${perLink((m) => m.external)}); without the GC ${(rssNone / 2 ** 20).toFixed(1)} → ${(rssUp / 2 ** 20).toFixed(1)} MiB, ` +
      `${(rssPerLinkNoGc / 1024).toFixed(1)} KiB per peer; active resources ${JSON.stringify(memUp.resources)}`,
  );

  // 4. CPU at idle, keep-alives flowing both ways.
  await helpers.mark();
  await profileStart(d1, prof);
  const ticks0 = d1.cpuTicks();
  const w0 = process.hrtime.bigint();
  await sleep(o.idleMs);
  const ticks1 = d1.cpuTicks();
  const secs = Number(process.hrtime.bigint() - w0) / 1e9;
  await profileStop(d1, prof, 'idle');
  const idle = await helpers.counts();
  const idleCpuPct = Math.round(((ticks1 - ticks0) / clockTicksPerSecond() / secs) * 100 * 100) / 100;
  const idleKeepalivesPerS = Math.round(((idle.pingsSent + idle.pingsAnswered) / secs) * 10) / 10;
  say(
    `  round ${r}: idle CPU ${idleCpuPct} % of a core over ${secs.toFixed(1)} s; keep-alives: peers sent ${idle.pingsSent} (answered ${idle.pongsReceived}), ` +
      `the daemon sent ${idle.pingsAnswered}; still up ${idle.outboundUp}/${idle.inboundUp}`,
  );

  // 5. One link's ping while all are up.
  const ping = await closedLoop(() => client.reply(net.peers[0]!.id, 'ping'), {
    inflight: 1,
    count: PING_COUNT,
    warmup: PING_WARMUP,
    expect: (reply) => reply === net.peers[0]!.id,
  });
  say(`  round ${r}: ping through one of ${n} links: ${ping.rate} req/s, p50 ${ping.p50Us} µs, p99 ${ping.p99Us} µs`);
  await client.close();

  // 6. Restart: every peer reconnects at once; the daemon's own ping meanwhile.
  await helpers.mark();
  const tKill = Date.now();
  await d1.kill('SIGKILL');
  const local = new LocalPinger(net.spool);
  // Profiled from its first moment (the storm begins before `ready`); written when it stops (SIGTERM below).
  const d2 = await ScaleDaemon.start(net, daemonFds, `daemon-round${r}-restarted.log`, {
    env: { LCD_PROBE_ELD: '1' },
    nodeFlags: prof ? ['--cpu-prof', '--cpu-prof-dir', prof.dir, '--cpu-prof-name', `round${r}-reconnect.cpuprofile`] : [],
  });
  t.teardown(() => d2.kill('SIGKILL'));
  const tReady = Date.now();
  const storm = await waitFor(
    'every peer back and announced to',
    async () => {
      const c = await helpers.counts();
      return c.outboundAllUpAt !== null && c.inboundAllSinceMarkAt !== null ? c : undefined;
    },
    { timeoutMs: RECONNECT_DEADLINE_MS, everyMs: 50 },
  );
  const stormPing = await local.stop();
  const stormLoop = await d2.probe<LoopDelay>('eld');
  const backAt = storm.outboundUpAtSinceMark.map((at) => at - tKill).sort((a, b) => a - b);
  const figures: RoundFigures = {
    upMs,
    upInboundMs,
    upOutboundMs,
    rssNone: memNone.memory.rss,
    rssUp: memUp.memory.rss,
    rssPerLink,
    rssPerLinkNoGc,
    idleCpuPct,
    idleKeepalivesPerS,
    pingP50Us: ping.p50Us,
    pingP99Us: ping.p99Us,
    pingRate: ping.rate,
    restartReadyMs: tReady - tKill,
    reconnectMs: storm.outboundAllUpAt! - tKill,
    reconnectP50Ms: pct(backAt, 50),
    reconnectP90Ms: pct(backAt, 90),
    announceMs: storm.inboundAllSinceMarkAt! - tKill,
    reconnectPings: stormPing.count,
    reconnectPingP50Us: stormPing.p50Us,
    reconnectPingP99Us: stormPing.p99Us,
    reconnectPingMaxUs: stormPing.maxUs,
    startMs: d1.startMs,
    clientSocketMs: local.connectedAt - tKill,
    upPingP99Us: upPing.p99Us,
    failures: storm.failures,
    load: `${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
  };
  say(
    `  round ${r}: restart: client socket open ${figures.clientSocketMs} ms and ready ${figures.restartReadyMs} ms after the kill (a start with no peer knocking: ${d1.startMs} ms); all ${n} peers back after ${figures.reconnectMs} ms ` +
      `(p50 ${figures.reconnectP50Ms}, p90 ${figures.reconnectP90Ms} ms); announced to all after ${figures.announceMs} ms; ` +
      `failed attempts ${JSON.stringify(storm.failures)}; local pings meanwhile ${stormPing.count}: p50 ${figures.reconnectPingP50Us} µs, ` +
      `p99 ${figures.reconnectPingP99Us} µs, max ${figures.reconnectPingMaxUs} µs; ` +
      `the daemon's loop delay p50 ${stormLoop.p50Ms} ms, p99 ${stormLoop.p99Ms} ms, max ${stormLoop.maxMs} ms; load ${figures.load}`,
  );
  await d2.kill('SIGTERM');
  await helpers.stop();
  const keep = o.logDir ?? prof?.dir;
  if (keep) for (const f of readdirSync(net.dir).filter((x) => x.startsWith(`daemon-round${r}`))) copyFileSync(join(net.dir, f), join(keep, f));
  return figures;
}

let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return ticksPerSecond;
}

function summarizeProfiles(dir: string, rounds: number, n: number, say: (line: string) => void): void {
  for (let r = 1; r <= rounds; r++) {
    for (const phase of ['bringup', 'idle', 'reconnect']) {
      const file = join(dir, `round${r}-${phase}.cpuprofile`);
      if (!existsSync(file)) continue;
      const s = summarizeCpuProfile(file);
      say(`  profile round ${r} ${phase}: ${s.wallMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms; top self time:`);
      for (const row of s.rows.filter((x) => x.fn !== '(idle)').slice(0, 12)) say(`    ${row.selfMs.toFixed(1).padStart(8)} ms  ${row.fn}`);
      say('    top inclusive:');
      for (const row of inclusiveTop(s.rows, 12)) say(`    ${row.totalMs.toFixed(1).padStart(8)} ms  ${row.fn}`);
      say('    longest stretches without an idle sample:');
      for (const st of longestStalls(file, 6)) {
        say(`    ${st.ms.toFixed(0).padStart(8)} ms at ${st.atMs.toFixed(0)} ms: ${st.entries.map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join('; ')}`);
      }
    }
    const none = join(dir, `round${r}-none.heapsnapshot`);
    const up = join(dir, `round${r}-up.heapsnapshot`);
    if (existsSync(none) && existsSync(up)) {
      const rows = heapGrowth(none, up);
      const total = rows.reduce((s, x) => s + x.bytes, 0);
      say(`  heap growth round ${r}: ${total} bytes, ${(total / n).toFixed(0)} per peer; largest:`);
      for (const x of rows.slice(0, 15)) say(`    ${String(Math.round(x.bytes / n)).padStart(7)} B/peer ${String(x.count).padStart(7)} objects  ${x.key}`);
    }
  }
}

export async function benchScale(t: Tap, say: (line: string) => void, argv: readonly string[]): Promise<Record<string, number>> {
  const o = options(argv);
  const { soft, hard } = fdLimits();
  const need = 3 * o.peers + 256;
  say(
    `— scale: one daemon, ${o.peers} peers in ${o.helpers} helper processes (127.2.x.y:${PORT}), ${o.rounds} rounds; ` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  say(
    `  limits: open files soft ${soft} / hard ${hard}` +
      (soft >= need ? ` (enough: the daemon needs ~${need})` : ` (raised to ${need} for the daemon and the helpers with prlimit)`) +
      `; handshake admission: ${DEFAULT_ADMISSION.perSourcePending} pending per address, ${DEFAULT_ADMISSION.totalPending} in total, ` +
      `Hellos ${DEFAULT_ADMISSION.perSourceRate}/s per address (burst ${DEFAULT_ADMISSION.perSourceBurst}), ${DEFAULT_ADMISSION.totalRate}/s in total (burst ${DEFAULT_ADMISSION.totalBurst}); ` +
      `announcement ${ANNOUNCE_PER_TICK} every ${ANNOUNCE_TICK_MS} ms`,
  );
  for (const d of [o.profileDir, o.logDir]) if (d) mkdirSync(d, { recursive: true });
  const net = makeNetwork(t, o.peers);
  const rounds: RoundFigures[] = [];
  for (let r = 1; r <= o.rounds; r++) rounds.push(await round(t, say, net, o, r));
  if (o.profileDir) summarizeProfiles(o.profileDir, o.rounds, o.peers, say);

  const m = (f: (x: RoundFigures) => number): number => median(rounds.map(f));
  const all = (f: (x: RoundFigures) => number): string => rounds.map(f).join(', ');
  const figures: Record<string, number> = {
    links: o.peers,
    up_ms: m((x) => x.upMs),
    rss_per_link_bytes: m((x) => x.rssPerLink),
    idle_cpu_pct: m((x) => x.idleCpuPct),
    ping_p99_us: m((x) => x.pingP99Us),
    reconnect_ping_p99_us: m((x) => x.reconnectPingP99Us),
    reconnect_ms: m((x) => x.reconnectMs),
    // Beside the issue's figures: what they are made of.
    up_inbound_ms: m((x) => x.upInboundMs),
    up_outbound_ms: m((x) => x.upOutboundMs),
    rss_per_link_nogc_bytes: m((x) => x.rssPerLinkNoGc),
    rss_none_bytes: m((x) => x.rssNone),
    rss_up_bytes: m((x) => x.rssUp),
    ping_p50_us: m((x) => x.pingP50Us),
    restart_ready_ms: m((x) => x.restartReadyMs),
    reconnect_p50_ms: m((x) => x.reconnectP50Ms),
    announce_ms: m((x) => x.announceMs),
    reconnect_ping_max_us: m((x) => x.reconnectPingMaxUs),
    start_ms: m((x) => x.startMs),
    up_ping_p99_us: m((x) => x.upPingP99Us),
  };
  const line = (name: string, value: string, target: string, runs: string): void => say(`${name.padEnd(28)} ${value.padStart(14)}   ${target.padEnd(12)} runs: ${runs}`);
  say(`scale (medians of ${rounds.length} rounds; load average per round: ${rounds.map((x) => x.load).join('; ')})`);
  line('scale.links', String(o.peers), '', `${2 * o.peers} connections (both directions)`);
  line('scale.up_ms', `${figures.up_ms} ms`, '', all((x) => x.upMs));
  line('scale.rss_per_link_bytes', `${figures.rss_per_link_bytes} B`, '≤ 65536', all((x) => x.rssPerLink));
  line('scale.idle_cpu_pct', `${figures.idle_cpu_pct} %`, '≤ 2', all((x) => x.idleCpuPct));
  line('scale.ping_p99_us', `${figures.ping_p99_us} µs`, '', all((x) => x.pingP99Us));
  line('scale.reconnect_ping_p99_us', `${figures.reconnect_ping_p99_us} µs`, '< 100000', all((x) => x.reconnectPingP99Us));
  line('scale.reconnect_ms', `${figures.reconnect_ms} ms`, '', all((x) => x.reconnectMs));
  return figures;
}
