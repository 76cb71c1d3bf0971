/**
 * `npm run bench` (figures, not a test): every loncapad path beside the same
 * work through a plain baseline, in the same run, with the ratio.
 *
 *   network  client → daemon A → daemon B → back (ping, put, get), 1 and 64
 *            in flight, vs a plain UNIX→TCP relay without crypto (plain-relay.ts);
 *            the puts also vs the same relay whose server answers after a
 *            group-committed fdatasync (the durable relay: what a put could
 *            reach here if only the hops and the sync cost anything); the same
 *            puts to A's own store (put_local: a local writer)
 *   dump     a 100,000-key dump while other clients ping: their p99 during it
 *   spool    durable enqueue with the peer down and 64 concurrent critical
 *            senders, 1 and then 4 messages in flight each, vs raw
 *            better-sqlite3 inserts (WAL, synchronous=FULL, 64 rows a
 *            transaction), and the same senders against a plain program that
 *            answers con_delayed after appending and syncing (the durable
 *            plain spool); replay when the peer returns, vs raw batched deletes
 *   web      a static file and a .vuh page vs bare node:http; site-map lookup
 *            with 100 and 100,000 nodes (web.ts)
 *   replication  first access of a 1 MB resource on an access server vs a bare
 *            download from the home; serving a replicated copy vs a bare
 *            node:http static file (replication.ts)
 *   nats     the same request-reply as `ping` through a real nats-server to a
 *            responder process, interleaved with the ping rounds; prints
 *            loncapad / NATS (nats.ts; skipped with a line when nats-server
 *            cannot be had). `--only nats` runs the ping rounds and NATS only.
 *   scale    one daemon with 1,000 peers (helper processes speaking the wire
 *            protocol): time to bring the links up, RSS per link, idle CPU,
 *            ping p99 through one link, local ping p99 while all 1,000
 *            reconnect after a restart (scale.ts). Only with `--only scale`:
 *            it takes a few minutes and wants a quiet machine.
 *
 * `--json` ends the output with one JSON line holding every figure by name;
 * `--only network,nats,dump,spool,web,replication,scale` runs a subset
 * (default: every part but scale).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connect, type LoncapadClient } from '../../lib';
import type { SyncedDatabase } from '../../lib/store/wal-sync';
import { runCli } from '../helpers/cli';
import { makeNetwork, query, type Daemon } from '../helpers/network';
import { waitFor } from '../helpers/wait';
import { clockTicksPerSecond, closedLoop, processCpuTicks, ratio, withCpu, type Figures } from './measure';
import { startNats, type NatsSideBySide } from './nats';

const JSON_OUT = process.argv.includes('--json');
/** `--only network,nats,dump,spool,web,replication,scale` runs a subset (see the module comment). */
const ONLY = (() => {
  const i = process.argv.indexOf('--only');
  return i < 0 ? undefined : new Set(process.argv[i + 1]!.split(','));
})();
/** Parts that only run when named in `--only`. */
const ON_REQUEST = new Set(['scale']);
const wanted = (part: string): boolean => (ONLY === undefined ? !ON_REQUEST.has(part) : ONLY.has(part));
const figures: Record<string, number> = {};
const cleanups: Array<() => unknown> = [];
const teardown = { teardown: (fn: () => unknown) => void cleanups.push(fn) };

function say(line: string): void {
  process.stdout.write(line + '\n');
}

function record(name: string, f: Figures, base?: Figures): void {
  figures[`${name}.rate`] = f.rate;
  figures[`${name}.p50_us`] = f.p50Us;
  figures[`${name}.p99_us`] = f.p99Us;
  let line = `${name.padEnd(22)} ${String(f.rate).padStart(8)} req/s  p50 ${String(f.p50Us).padStart(6)} µs  p99 ${String(f.p99Us).padStart(6)} µs`;
  if (base) {
    figures[`${name}.ratio`] = ratio(f.rate, base.rate);
    line += `   plain relay ${String(base.rate).padStart(8)} req/s  ratio ${ratio(f.rate, base.rate).toFixed(2)}`;
  }
  say(line);
}

function startChild(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(__dirname, 'plain-relay.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(p);
    });
    p.on('exit', (code) => reject(new Error(`plain relay exited ${code}`)));
    cleanups.push(() => p.kill());
  });
}

/** The plain relay in front of a server that answers each line once it is on disk (plain-relay.ts). */
async function durableRelay(dir: string): Promise<LoncapadClient> {
  await startChild(['durable-server', '127.0.10.5', '15701', join(dir, 'durable-server.log')]);
  const path = join(dir, 'durable-relay.sock');
  await startChild(['relay', path, '127.0.10.5', '15701']);
  const client = await connect({ socket: path });
  cleanups.push(() => client.close());
  return client;
}

/**
 * A durable figure beside its ceiling: the same work through a plain program
 * that does only the transport and the sync. The ceiling over the baseline
 * is what the figure's ratio would be if the daemon's own work (crypto,
 * commands, SQLite) cost nothing; loncapad over the ceiling is how much of
 * that its own work leaves.
 */
function recordCeiling(name: string, rate: number, ceilingName: string, ceiling: number, baseName: string, base: number): void {
  figures[`${name}.ceiling_per_s`] = ceiling;
  figures[`${name}.ceiling_ratio`] = ratio(ceiling, base);
  figures[`${name}.of_ceiling`] = ratio(rate, ceiling);
  say(
    `${''.padEnd(22)}  ${ceilingName} (the transport and the sync alone) ${ceiling}/s: ${ratio(ceiling, base).toFixed(2)} of the ${baseName}; ` +
      `loncapad ${ratio(rate, ceiling).toFixed(2)} of it`,
  );
}

async function load(client: LoncapadClient, peer: string, cmd: (i: number) => string, inflight: number, count: number, expect?: (r: string) => boolean) {
  return closedLoop((i) => client.reply(peer, cmd(i)), { inflight, count, warmup: Math.min(2000, count / 5), ...(expect ? { expect } : {}) });
}

async function network(a: Daemon, b: () => Daemon, withPutGet: boolean, nats: NatsSideBySide | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lcd-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await startChild(['server', '127.0.10.5', '15700']);
  const relayPath = join(dir, 'relay.sock');
  await startChild(['relay', relayPath, '127.0.10.5', '15700']);
  const plain = await connect({ socket: relayPath });
  const lc = await a.client();
  cleanups.push(() => plain.close(), () => lc.close());
  const durable = withPutGet ? await durableRelay(dir) : undefined;

  say(
    `— network: client → A → B → back (plain relay: the same hops, no crypto, no commands)` +
      `${nats ? '; NATS: client → nats-server → responder → back' : ''}; median of ${ROUNDS} interleaved rounds`,
  );
  const ping = (r: string) => r === 'beta';
  for (const [inflight, count] of [
    [1, 10_000],
    [64, 100_000],
  ] as const) {
    const warmup = Math.min(2000, count / 5);
    // Where the time goes: the CPU each process spends per request, beside the wall-clock figures.
    const [base, f, viaNats] = await rounds(
      () => load(plain, 'beta', () => 'ping', inflight, count),
      () => withCpu([a.proc.pid!, b().proc.pid!], warmup + count, () => load(lc, 'beta', () => 'ping', inflight, count, ping)),
      ...(nats ? [() => withCpu(nats.pids, warmup + count, () => closedLoop(nats.call, { inflight, count, warmup, expect: nats.expect }))] : []),
    );
    record(`ping.${inflight}`, f!, base);
    recordCpu(`ping.${inflight}`, f as CpuFigures, ['daemon A', 'daemon B']);
    if (viaNats) {
      recordNats(inflight, f!, viaNats);
      recordCpu(`nats.${inflight}`, viaNats as CpuFigures, ['nats-server', 'responder']);
    }
  }
  if (!durable) return;
  for (const [inflight, count] of [
    [1, 5_000],
    [64, 50_000],
  ] as const) {
    const warmup = Math.min(2000, count / 5);
    const pids = [a.proc.pid!, b().proc.pid!];
    // Only the puts write: B's store syncs over the rounds are theirs.
    const putCommand = (i: number) => `put:d1:amy:bench:k${i % 1000}=v${i}`;
    const { result, ...syncs } = await syncsDuring(b(), 'store', () =>
      rounds(
        () => load(plain, 'beta', () => 'ping', inflight, count),
        () => withCpu(pids, warmup + count, () => load(lc, 'beta', putCommand, inflight, count, (r) => r === 'ok')),
        () => withCpu(pids, warmup + count, () => load(lc, 'beta', (i) => `get:d1:amy:bench:k${i % 1000}`, inflight, count)),
        () => load(durable, 'beta', putCommand, inflight, count),
      ),
    );
    const [base, put, get, durablePut] = result;
    record(`put.${inflight}`, put!, base);
    recordCpu(`put.${inflight}`, put as CpuFigures, ['daemon A', 'daemon B']);
    recordSyncs(`put.${inflight}`, ROUNDS * (warmup + count), syncs, inflight);
    recordCeiling(`put.${inflight}`, put!.rate, 'durable relay', durablePut!.rate, 'plain relay', base!.rate);
    record(`get.${inflight}`, get!, base);
    recordCpu(`get.${inflight}`, get as CpuFigures, ['daemon A', 'daemon B']);
    // The same puts to A's own store: a local client writing on its home server.
    const local = await syncsDuring(a, 'store', () =>
      rounds(() => withCpu([a.proc.pid!], warmup + count, () => load(lc, 'alpha', (i) => `put:d1:amy:bench:k${i % 1000}=v${i}`, inflight, count, (r) => r === 'ok'))),
    );
    record(`put_local.${inflight}`, local.result[0]!, base);
    recordCpu(`put_local.${inflight}`, local.result[0] as CpuFigures, ['daemon A']);
    recordSyncs(`put_local.${inflight}`, ROUNDS * (warmup + count), local, inflight);
  }
}

type CpuFigures = Figures & { cpuUsPerReq: number[]; sysUsPerReq: number[]; clientCpuUsPerReq: number };

/** CPU per request of the processes on the path (summed as `<name>.cpu_us_per_req`) and of the client. */
function recordCpu(name: string, f: CpuFigures, who: readonly string[]): void {
  const sum = f.cpuUsPerReq.reduce((x, y) => x + y, 0);
  figures[`${name}.cpu_us_per_req`] = sum;
  figures[`${name}.client_cpu_us_per_req`] = f.clientCpuUsPerReq;
  say(
    `${''.padEnd(22)} CPU per request: ${who.map((w, i) => `${w} ${f.cpuUsPerReq[i]} µs (kernel ${f.sysUsPerReq[i]})`).join(', ')}, ` +
      `client ${f.clientCpuUsPerReq} µs`,
  );
}

/** NATS at `inflight`, and loncapad's ping rate over it (the issue's targets: ≥ 1.5 at 1, ≥ 4 at 64). */
function recordNats(inflight: number, ping: Figures, nats: Figures): void {
  const r = ratio(ping.rate, nats.rate);
  figures[`nats.${inflight}.rate`] = nats.rate;
  figures[`nats.${inflight}.p50_us`] = nats.p50Us;
  figures[`nats.${inflight}.p99_us`] = nats.p99Us;
  figures[`nats.${inflight}.ratio`] = r;
  say(
    `${`nats.${inflight}`.padEnd(22)} ${String(nats.rate).padStart(8)} req/s  p50 ${String(nats.p50Us).padStart(6)} µs  p99 ${String(nats.p99Us).padStart(6)} µs` +
      `   loncapad / NATS ${r.toFixed(2)} (target ≥ ${inflight === 1 ? '1.5' : '4'})`,
  );
}

/** The WAL syncs a daemon's `database` made while `run` ran (status before and after). */
async function syncsDuring<T>(d: Daemon, database: SyncedDatabase, run: () => Promise<T>): Promise<{ result: T; syncs: number; seconds: number }> {
  const before = (await d.status()).walSyncs[database];
  const result = await run();
  const after = (await d.status()).walSyncs[database];
  return { result, syncs: after.syncs - before.syncs, seconds: after.seconds - before.seconds };
}

/**
 * Messages made durable per sync and the mean sync, beside a durable figure,
 * and the rate the syncs alone allow: a message waits for one sync when it
 * is alone (1 in flight); with many in flight the syncs run back to back,
 * and a message waits for the rest of the one running when it arrives and
 * then its own, ~1.5 syncs on average. So at most inflight ÷ (waits × the
 * mean sync) a second, however fast everything else is.
 */
function recordSyncs(name: string, messages: number, s: { syncs: number; seconds: number }, inflight: number): void {
  const perSync = Math.round((messages / Math.max(1, s.syncs)) * 10) / 10;
  const meanUs = Math.round((s.seconds / Math.max(1, s.syncs)) * 1e6);
  const waits = inflight === 1 ? 1 : 1.5;
  const bound = meanUs > 0 ? Math.round(inflight / (waits * meanUs * 1e-6)) : 0;
  figures[`${name}.per_sync`] = perSync;
  figures[`${name}.sync_mean_us`] = meanUs;
  figures[`${name}.sync_bound_per_s`] = bound;
  say(`${''.padEnd(22)}  ${s.syncs} WAL syncs: ${perSync} messages each, mean ${meanUs} µs; the syncs allow at most ~${bound}/s (${inflight} in flight ÷ ${waits} syncs)`);
}

/** Noise on these machines is large: run the contenders in turn, ROUNDS times, and keep each one's median run. */
const ROUNDS = 3;
async function rounds(...contenders: Array<() => Promise<Figures>>): Promise<Figures[]> {
  const runs: Figures[][] = contenders.map(() => []);
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < contenders.length; i++) runs[i]!.push(await contenders[i]!());
  return runs.map((rs) => rs.sort((x, y) => x.rate - y.rate)[rs.length >> 1]!);
}

async function dumpWhilePinging(a: Daemon): Promise<void> {
  say('— dump of 100,000 keys while other clients ping');
  const writer = await a.client();
  const keys = 100_000;
  const perPut = 1000;
  const puts: Promise<string>[] = [];
  for (let p = 0; p < keys / perPut; p++) {
    const pairs = Array.from({ length: perPut }, (_, i) => `key${p * perPut + i}=value${p * perPut + i}`).join('&');
    puts.push(writer.reply('beta', `put:d1:bulk:big:${pairs}`));
  }
  const ok = await Promise.all(puts);
  if (ok.some((r) => r !== 'ok')) throw new Error('populating the dump failed');
  const t0 = Date.now();
  const dumpBytes = (await writer.reply('beta', 'dump:d1:bulk:big', { timeoutMs: 60_000 })).length;
  const dumpMs = Date.now() - t0;
  const pinger = await a.client();
  const quiet = await load(pinger, 'beta', () => 'ping', 4, 5_000);
  // The dumps run in client processes of their own (`loncapad call`), so that
  // receiving 2 MB does not stall the pinging process itself.
  let dumping = true;
  const dumps = (async () => {
    for (let i = 0; i < 5; i++) {
      const r = await runCli(['call', '--spool', a.host.spool, '--timeout', '60000', 'beta', 'dump:d1:bulk:big']);
      if (r.stdout.length < dumpBytes) throw new Error(`dump in a child process failed: ${r.stderr}`);
    }
    dumping = false;
  })();
  const lat: number[] = [];
  const pingWhile = async () => {
    while (dumping) {
      const t = process.hrtime.bigint();
      await pinger.reply('beta', 'ping');
      lat.push(Number(process.hrtime.bigint() - t) / 1e3);
    }
  };
  await Promise.all([dumps, pingWhile(), pingWhile(), pingWhile(), pingWhile()]);
  lat.sort((x, y) => x - y);
  const p99 = Math.round(lat[Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)]!);
  figures['dump.ms'] = Math.round(dumpMs);
  figures['dump.bytes'] = dumpBytes;
  figures['dump.ping_p99_us'] = p99;
  figures['dump.ping_p99_quiet_us'] = quiet.p99Us;
  say(`dump 100k keys          ${Math.round(dumpMs)} ms (${(dumpBytes / 1e6).toFixed(1)} MB); pings during 5 dumps: ${lat.length}, p99 ${p99} µs (quiet p99 ${quiet.p99Us} µs)`);
  await writer.close();
  await pinger.close();
}

/** Raw better-sqlite3: the same rows, WAL + synchronous=FULL, `perTxn` rows a commit. */
function rawSqlite(n: number, perTxn: number): { enqueue: number; dequeue: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lcd-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE q (seq INTEGER PRIMARY KEY AUTOINCREMENT, peer TEXT, msgid TEXT UNIQUE, command TEXT, created_at INTEGER)');
  db.exec('CREATE INDEX q_peer ON q (peer, seq)');
  const ins = db.prepare('INSERT INTO q (peer, msgid, command, created_at) VALUES (?, ?, ?, ?)');
  const batch = db.transaction((from: number) => {
    for (let i = from; i < from + perTxn; i++) ins.run('beta', `m${i}`, `log:d1:amy:${i}`, Date.now());
  });
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i += perTxn) batch(i);
  const enqueue = Math.round(n / (Number(process.hrtime.bigint() - t) / 1e9));
  const sel = db.prepare('SELECT seq FROM q WHERE peer = ? ORDER BY seq LIMIT 256');
  const del = db.prepare('DELETE FROM q WHERE seq = ?');
  const take = db.transaction(() => {
    const rows = sel.all('beta') as Array<{ seq: number }>;
    for (const r of rows) del.run(r.seq);
    return rows.length;
  });
  t = process.hrtime.bigint();
  while (take() > 0);
  const dequeue = Math.round(n / (Number(process.hrtime.bigint() - t) / 1e9));
  db.close();
  return { enqueue, dequeue };
}

/** Messages each enqueue run spools. */
const ENQUEUE_MESSAGES = 50_000;
/** In flight per sender connection in the second enqueue run (64 × 4 = 256 outstanding). */
const ENQUEUE_PIPELINED = 4;

/**
 * `n` critical messages through the 64 `senders`, each keeping `perSender`
 * in flight, every one answered `con_delayed` (so on disk); msg/s, with the
 * CPU per message of the daemon and of this process (the senders).
 */
async function enqueueRun(a: Daemon, senders: readonly LoncapadClient[], perSender: number, first: number, n: number) {
  const t0 = process.hrtime.bigint();
  const { result: cpu, ...syncs } = await syncsDuring(a, 'spool', () => withCpu([a.proc.pid!], n, () => sendCritical(senders, perSender, first, n)));
  return { rate: Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9)), cpu, syncs };
}

/** Messages `first`…`first + n - 1` through the senders, `perSender` in flight each, every one answered `con_delayed`. */
async function sendCritical(senders: readonly LoncapadClient[], perSender: number, first: number, n: number): Promise<object> {
  let next = first;
  await Promise.all(
    senders.flatMap((c) =>
      Array.from({ length: perSender }, async () => {
        while (next < first + n) {
          const i = next++;
          const r = await c.critical('beta', `log:d1:amy:${i}`);
          if (r !== 'con_delayed') throw new Error(`critical answered ${r}`);
        }
      }),
    ),
  );
  return {};
}

/** The same two runs against the durable plain spool (plain-relay.ts): msg/s at 64 × 1 and 64 × perSender. */
async function plainSpoolRuns(n: number, perSender: number): Promise<[number, number]> {
  const dir = mkdtempSync(join(tmpdir(), 'lcd-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'plain-spool.sock');
  const child = await startChild(['durable-spool', path, join(dir, 'plain-spool.log')]);
  const senders = await Promise.all(Array.from({ length: 64 }, () => connect({ socket: path })));
  const rateOf = async (per: number, first: number): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await sendCritical(senders, per, first, n);
    return Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9));
  };
  await rateOf(1, 0); // warm-up: the loncapad runs came after their daemon's own start
  const rates: [number, number] = [await rateOf(1, n), await rateOf(perSender, 2 * n)];
  await Promise.all(senders.map((c) => c.close()));
  child.kill();
  return rates;
}

async function spool(a: Daemon, startBeta: () => Promise<Daemon>, stopBeta: () => Promise<unknown>): Promise<void> {
  say(`— spool: peer down, 64 concurrent critical senders (1, then ${ENQUEUE_PIPELINED} in flight each); then replay when it returns`);
  await stopBeta();
  const n = ENQUEUE_MESSAGES;
  const senders = await Promise.all(Array.from({ length: 64 }, () => a.client()));
  // Let the link notice the peer is gone (the first messages would otherwise wait out a connect).
  await waitFor('beta marked unreachable', async () => (await senders[0]!.critical('beta', 'log:d1:amy:warm')) === 'con_delayed');
  // 64 senders, one message each at a time: bound by a round trip each (socket I/O per message, the sync).
  const single = await enqueueRun(a, senders, 1, 0, n);
  // The same senders keeping 4 each in flight: bound by the spool's own rate (group commit).
  const pipelined = await enqueueRun(a, senders, ENQUEUE_PIPELINED, n, n);
  await Promise.all(senders.map((c) => c.close()));
  const spooled = query<{ n: number }>(join(a.host.spool, 'spool.sqlite'), 'SELECT count(*) AS n FROM queue')[0]!.n;
  const raw = rawSqlite(n, 64);
  const [plainSingle, plainPipelined] = await plainSpoolRuns(n, ENQUEUE_PIPELINED);
  const enqueue = single.rate;
  figures['spool.enqueue_per_s'] = enqueue;
  figures['spool.enqueue_raw_per_s'] = raw.enqueue;
  figures['spool.enqueue_ratio'] = ratio(enqueue, raw.enqueue);
  figures['spool.enqueue_pipelined_per_s'] = pipelined.rate;
  figures['spool.enqueue_pipelined_ratio'] = ratio(pipelined.rate, raw.enqueue);
  for (const [name, run] of [['enqueue', single], ['enqueue_pipelined', pipelined]] as const) {
    figures[`spool.${name}_cpu_us_per_msg`] = run.cpu.cpuUsPerReq[0]!;
    figures[`spool.${name}_client_cpu_us_per_msg`] = run.cpu.clientCpuUsPerReq;
  }
  say(`enqueue (durable)       ${enqueue} msg/s (64 × 1 in flight)   raw sqlite 64/txn ${raw.enqueue} rows/s  ratio ${ratio(enqueue, raw.enqueue).toFixed(2)}`);
  say(`${''.padEnd(22)}  CPU per message: daemon ${single.cpu.cpuUsPerReq[0]} µs (kernel ${single.cpu.sysUsPerReq[0]}), senders ${single.cpu.clientCpuUsPerReq} µs`);
  recordSyncs('spool.enqueue', n, single.syncs, 64);
  recordCeiling('spool.enqueue', enqueue, 'durable plain spool', plainSingle, 'raw sqlite', raw.enqueue);
  say(
    `enqueue (durable)       ${pipelined.rate} msg/s (64 × ${ENQUEUE_PIPELINED} in flight)   raw sqlite 64/txn ${raw.enqueue} rows/s  ratio ${ratio(pipelined.rate, raw.enqueue).toFixed(2)}   (${spooled} rows spooled)`,
  );
  say(`${''.padEnd(22)}  CPU per message: daemon ${pipelined.cpu.cpuUsPerReq[0]} µs (kernel ${pipelined.cpu.sysUsPerReq[0]}), senders ${pipelined.cpu.clientCpuUsPerReq} µs`);
  recordSyncs('spool.enqueue_pipelined', n, pipelined.syncs, 64 * ENQUEUE_PIPELINED);
  recordCeiling('spool.enqueue_pipelined', pipelined.rate, 'durable plain spool', plainPipelined, 'raw sqlite', raw.enqueue);

  const logFrom = a.stderr.length;
  const beta = await startBeta();
  // CPU per replayed message of each side: steadier than the rate on a loaded machine.
  const cpuFrom = [processCpuTicks(a.proc.pid!), processCpuTicks(beta.proc.pid!)];
  a.proc.kill('SIGUSR1'); // retry now rather than at the backoff ceiling
  const startLine = await waitFor('replay start', () => a.stderr.slice(logFrom).find((l) => /spool: replaying \d+ message/.test(l)), { timeoutMs: 30_000 });
  const doneLine = await waitFor('replay done', () => a.stderr.slice(logFrom).find((l) => /spool: replay to beta done/.test(l)), { timeoutMs: 120_000 });
  const cpuTicks = [processCpuTicks(a.proc.pid!) - cpuFrom[0]!, processCpuTicks(beta.proc.pid!) - cpuFrom[1]!];
  const ms = Date.parse(doneLine.split(' ')[0]!) - Date.parse(startLine.split(' ')[0]!);
  const replayed = Number(/replaying (\d+)/.exec(startLine)![1]);
  const [senderUs, receiverUs] = cpuTicks.map((t) => Math.round((t * 1e6) / clockTicksPerSecond() / replayed));
  const rate = Math.round(replayed / (Math.max(ms, 1) / 1000));
  figures['spool.replay_per_s'] = rate;
  figures['spool.dequeue_raw_per_s'] = raw.dequeue;
  figures['spool.replay_ratio'] = ratio(rate, raw.dequeue);
  figures['spool.replay_sender_cpu_us_per_msg'] = senderUs!;
  figures['spool.replay_receiver_cpu_us_per_msg'] = receiverUs!;
  say(`replay                  ${rate} msg/s (${replayed} in ${ms} ms)   raw sqlite dequeue ${raw.dequeue} rows/s  ratio ${ratio(rate, raw.dequeue).toFixed(2)}`);
  say(`${''.padEnd(22)}  CPU per message: sender ${senderUs} µs, receiver ${receiverUs} µs`);
}

async function web(): Promise<void> {
  say('— web: a static file and a .vuh page through the request processor vs a bare node:http handler');
  const { benchWeb } = await import('./web');
  for (const [k, v] of Object.entries(await benchWeb())) {
    figures[`web.${k}`] = v;
    say(`${('web.' + k).padEnd(40)} ${v}`);
  }
}

async function replication(): Promise<void> {
  say('— replication: first access of 1 MB over the peer link vs a bare download from the home; a served copy vs a bare static file');
  const { benchReplication } = await import('./replication');
  const f = await benchReplication(teardown);
  for (const [k, v] of Object.entries(f)) figures[`replication.${k}`] = v;
  say(`first access 1 MB        ${f.first_access_ms} ms   bare node:http download ${f.first_access_bare_ms} ms  ratio ${f.first_access_ratio}`);
  say(`serving a copy           ${f.serve_rps} req/s   bare static file ${f.serve_bare_rps} req/s  ratio ${f.serve_ratio}`);
}

async function main(): Promise<void> {
  if (wanted('scale')) {
    const { benchScale } = await import('./scale');
    const f = await benchScale(teardown, say, process.argv);
    for (const [k, v] of Object.entries(f)) figures[`scale.${k}`] = v;
  }
  const daemonParts = ['network', 'nats', 'dump', 'spool', 'web', 'replication'];
  if (!daemonParts.some(wanted)) {
    if (JSON_OUT) say(JSON.stringify(figures));
    return;
  }
  const net = await makeNetwork(teardown, [
    { id: 'alpha', ip: '127.0.10.2' },
    { id: 'beta', ip: '127.0.10.3' },
  ]);
  // alpha logs at info: the replay figures are read from its replay lines.
  const a = await net.start('alpha', ['--log-level', 'info']);
  let b = await net.start('beta', ['--log-level', 'warn']);
  let nats: NatsSideBySide | undefined;
  if (wanted('nats')) {
    const started = await startNats(teardown, say);
    if (typeof started === 'string') say(`nats: skipped: ${started}`);
    else nats = started;
  }
  if (wanted('network') || nats) await network(a, () => b, wanted('network'), nats);
  if (wanted('dump')) await dumpWhilePinging(a);
  if (wanted('spool')) {
    await spool(
      a,
      async () => (b = await net.start('beta', ['--log-level', 'warn'])),
      () => b.stop(),
    );
  }
  if (wanted('web')) await web();
  if (wanted('replication')) await replication();
  if (JSON_OUT) say(JSON.stringify(figures));
}

/** Stop what the bench started (daemons, helpers, servers), once, last started first. */
async function cleanUp(): Promise<void> {
  for (let c = cleanups.pop(); c; c = cleanups.pop()) await c();
}

// Interrupted (Ctrl-C, a timeout): leave no daemon or helper behind, least of all the scale part's.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}; stopping what it started\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main()
  .catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(cleanUp);
