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
 * the daemon's logs there), --scale-apart (bring the daemon's links up first,
 * then the peers' links, each timed alone with the local ping meanwhile:
 * which direction stalls the daemon), --scale-profile DIR (also write CPU profiles of
 * bring-up and idle (inspector, through the probe) and of the restarted
 * daemon from its first moment (`node --cpu-prof`), heap snapshots with no
 * link and with all up, and print their summaries: where the time went,
 * the longest stretches without an idle moment, what the heap grew by per
 * peer. A profiled run's figures are disturbed by the profiler; take the
 * figures from runs without it).
 *
 * Files: scale-network.ts (addresses, keys, hosts table, limits),
 * scale-daemon.ts (the daemon process, /proc readings, the local pinger),
 * scale-helpers.ts (the helper processes, seen from here), scale-peers.ts
 * with scale-peer-outbound.ts, scale-peer-inbound.ts and
 * scale-peer-stats.ts (a helper process and its peers), scale-probe.ts
 * (loaded into the daemon), profile-summary.ts (reading profiles).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../lib';
import { ANNOUNCE_PER_TICK, ANNOUNCE_TICK_MS } from '../../lib/peers/announce';
import { DEFAULT_ADMISSION } from '../../lib/peers/admission';
import type { Tap } from '../helpers/network';
import { waitFor } from '../helpers/wait';
import { clockTicksPerSecond, closedLoop, median, percentile as pct, sleep } from './measure';
import { heapGrowth, inclusiveTop, longestStalls, summarizeCpuProfile } from './profile-summary';
import { LocalPinger, ScaleDaemon } from './scale-daemon';
import { Helpers } from './scale-helpers';
import { BACKOFF, fdLimits, makeNetwork, planFds, PORT, type Network } from './scale-network';

/** Quiet time before each memory reading, so that the last handshakes' garbage is not counted. */
const SETTLE_MS = 5_000;
const PING_COUNT = 10_000;
const PING_WARMUP = 2_000;
/** The reconnect storm is given this long to end; past it the round fails. */
const RECONNECT_DEADLINE_MS = 180_000;

interface Options {
  peers: number;
  helpers: number;
  rounds: number;
  idleMs: number;
  profileDir: string | undefined;
  logDir: string | undefined;
  /** Bring the two directions up one after the other (the daemon's links first), each timed alone. */
  apart: boolean;
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
    apart: argv.includes('--scale-apart'),
  };
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
  /** Peers the restarted daemon's announcement still reached (the others had connected back first). */
  announcedTo: number;
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

type PingFigures = Awaited<ReturnType<LocalPinger['stop']>>;

/**
 * Bring links up while a local client pings the daemon itself: the peers'
 * links to it (`inbound`: the helpers connect all their peers at once)
 * and/or its links to them (`outbound`: one ping through each, all sent at
 * once). Times are from the start, ms; `text` says the rest for the output.
 */
async function bringUp(
  d: ScaleDaemon,
  helpers: Helpers,
  client: Awaited<ReturnType<typeof connect>>,
  net: Network,
  which: { inbound: boolean; outbound: boolean },
): Promise<{ inboundMs: number; outboundMs: number; ping: PingFigures; text: string }> {
  const pinger = new LocalPinger(net.spool);
  await waitFor('local pinger connected', () => pinger.connectedAt > 0);
  await d.probe('eld-start');
  const t0 = Date.now();
  if (which.inbound) helpers.send('connect');
  let outboundAt = t0;
  let wrong = 0;
  const outbound = which.outbound
    ? Promise.all(
        net.peers.map(async (p) => {
          const reply = await client.reply(p.id, 'ping', { timeoutMs: 120_000 });
          if (reply !== p.id) wrong++;
          outboundAt = Math.max(outboundAt, Date.now());
        }),
      )
    : Promise.resolve();
  const inboundAt = which.inbound
    ? await waitFor('every peer connected to the daemon', async () => (await helpers.counts()).outboundAllUpAt, { timeoutMs: 180_000, everyMs: 50 })
    : t0;
  await outbound;
  const ping = await pinger.stop();
  const loop = await d.probe<LoopDelay>('eld');
  if (wrong > 0) throw new Error(`${wrong} pings through the daemon's links got a wrong reply`);
  let text = '';
  if (which.inbound) {
    const c = await helpers.counts();
    const upAt = c.outboundUpAtSinceMark.map((at) => at - t0).sort((a, b) => a - b);
    const late = upAt.filter((ms) => ms > BACKOFF.ceilingMs / 2).length;
    text +=
      `each peer's link up after p50 ${pct(upAt, 50)}, p90 ${pct(upAt, 90)}, max ${upAt[upAt.length - 1]} ms` +
      (late > 0 ? ` (${late} after more than ${BACKOFF.ceilingMs / 2000} s: marked dead, retried at the ${BACKOFF.ceilingMs / 1000} s ceiling)` : '') +
      `; failed attempts ${JSON.stringify(c.failures)}; `;
  }
  text +=
    `local pings meanwhile ${ping.count}: p50 ${ping.p50Us} µs, p99 ${ping.p99Us} µs, max ${ping.maxUs} µs; ` +
    `the daemon's loop delay p50 ${loop.p50Ms} ms, p99 ${loop.p99Ms} ms, max ${loop.maxMs} ms`;
  return { inboundMs: inboundAt - t0, outboundMs: outboundAt - t0, ping, text };
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
  let upMs: number;
  let upInboundMs: number;
  let upOutboundMs: number;
  let upPing: PingFigures;
  if (!o.apart) {
    const both = await bringUp(d1, helpers, client, net, { inbound: true, outbound: true });
    ({ inboundMs: upInboundMs, outboundMs: upOutboundMs, ping: upPing } = both);
    upMs = Math.max(upInboundMs, upOutboundMs);
    say(`  round ${r}: all ${n} peers up in ${upMs} ms (their links to the daemon ${upInboundMs} ms, the daemon's links to them ${upOutboundMs} ms); ${both.text}`);
  } else {
    // Each direction alone, to tell which one stalls the daemon: its links first, then the peers'.
    const out = await bringUp(d1, helpers, client, net, { inbound: false, outbound: true });
    say(`  round ${r}: the daemon's ${n} links alone up in ${out.outboundMs} ms; ${out.text}`);
    const inn = await bringUp(d1, helpers, client, net, { inbound: true, outbound: false });
    say(`  round ${r}: then the peers' ${n} links alone up in ${inn.inboundMs} ms; ${inn.text}`);
    upOutboundMs = out.outboundMs;
    upInboundMs = inn.inboundMs;
    upMs = upOutboundMs + upInboundMs;
    upPing = inn.ping.p99Us > out.ping.p99Us ? inn.ping : out.ping;
  }
  await profileStop(d1, prof, 'bringup');

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
    'every peer back',
    async () => {
      const c = await helpers.counts();
      return c.outboundAllUpAt !== null ? c : undefined;
    },
    { timeoutMs: RECONNECT_DEADLINE_MS, everyMs: 50 },
  );
  const stormPing = await local.stop();
  const stormLoop = await d2.probe<LoopDelay>('eld');
  // The announcement skips peers that connected back by themselves: once its pace has run through the
  // whole table, count the peers it still reached.
  const restartedAdmin = await connect({ spool: net.spool });
  await waitFor(
    'the announcement over and its links idle again',
    async () =>
      Date.now() - tReady >= announceMs &&
      (JSON.parse(await restartedAdmin.admin('status')) as { peers: Array<{ state: string }> }).peers.every((p) => p.state === 'idle' || p.state === 'up'),
    { timeoutMs: RECONNECT_DEADLINE_MS, everyMs: 100 },
  );
  await restartedAdmin.close();
  const announcedTo = (await helpers.counts()).inboundPeersSinceMark;
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
    announcedTo,
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
      `(p50 ${figures.reconnectP50Ms}, p90 ${figures.reconnectP90Ms} ms); the announcement reached ${figures.announcedTo} (the rest had connected back); ` +
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
      ` (${planFds(need).note})` +
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
    announced_peers: m((x) => x.announcedTo),
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
