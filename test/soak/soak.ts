/**
 * `npm run soak -- --minutes N` (not part of `npm test`): the long version of
 * the fault tests. Three real daemons — two senders, alpha and gamma, each
 * reaching the receiver beta through its own fault proxy — while clients
 * stream critical `log`, `inc` and `put` messages (each stream one message
 * at a time, so its order is the order of acceptance) and a fault schedule
 * does, at random every one to four seconds: SIGKILL and restart of any
 * daemon, SIGTERM and restart, link cuts, stalls, byte batching, refused
 * connections.
 *
 * At the end every fault is healed, the senders' spools drain, and the
 * receiver's database is read to count, per message: sent, acknowledged
 * (`ok` or `con_delayed`), applied, lost (acknowledged, never applied),
 * duplicated (applied twice) and out of order (applied after a message of
 * its stream sent later). Any loss, duplicate or reordering exits 1.
 *
 *   --minutes N   how long the faults go on (default 3)
 *   --seed N      the fault schedule's random seed (default: time)
 *   --streams N   client streams per sender (default 8)
 */
import { join } from 'node:path';
import { connect, type LoncapadClient } from '../../lib';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { makeNetwork, PEER_PORT, query, type Daemon, type Network } from '../helpers/network';
import { waitFor } from '../helpers/wait';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const MINUTES = arg('minutes', 3);
const STREAMS = arg('streams', 8);
let seed = arg('seed', Date.now() % 1_000_000);
const SEED = seed;
/** A small deterministic generator (mulberry32), so a failing schedule can be rerun with --seed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
  return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
}
const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);

/** Short deadlines and backoffs, so that faults cause timeouts, spooling and replays all the time. */
const TIMINGS = ['--critical-timeout-ms', '1500', '--ping-interval-ms', '500', '--ping-timeout-ms', '1000', '--backoff-ceiling-ms', '2000'];

type Kind = 'log' | 'inc' | 'put';
interface Sent {
  readonly stream: string;
  readonly seq: number;
  readonly kind: Kind;
  outcome: string;
}

class Sender {
  daemon: Daemon | undefined;
  client: LoncapadClient | undefined;
  constructor(
    readonly id: string,
    readonly extra: readonly string[],
  ) {}
}

async function main(): Promise<number> {
  const cleanups: Array<() => unknown> = [];
  const net: Network = await makeNetwork({ teardown: (fn) => void cleanups.push(fn) }, [
    { id: 'alpha', ip: '127.0.80.2' },
    { id: 'beta', ip: '127.0.80.3' },
    { id: 'gamma', ip: '127.0.80.4' },
  ]);
  try {
    const proxies: Record<string, FaultProxy> = {};
    const senders: Sender[] = [];
    for (const [id, ip, proxyIp] of [
      ['alpha', '127.0.80.2', '127.0.80.12'],
      ['gamma', '127.0.80.4', '127.0.80.14'],
    ] as const) {
      proxies[id] = await startFaultProxy({ listen: { host: proxyIp, port: PEER_PORT }, upstream: { host: '127.0.80.3', port: PEER_PORT }, localAddress: ip });
      cleanups.push(() => proxies[id]!.close());
      const view = net.writeHosts([net.line('alpha'), net.line('gamma'), net.line('beta', proxyIp)], join(net.dir, `${id}.tab`));
      senders.push(new Sender(id, ['--hosts', view, ...TIMINGS]));
    }
    let beta: Daemon | undefined = await net.start('beta', TIMINGS);
    for (const s of senders) {
      s.daemon = await net.start(s.id, s.extra);
      s.client = await connect({ spool: s.daemon.host.spool });
    }
    say(`soak: ${MINUTES} min, seed ${SEED}, ${STREAMS} streams per sender, senders alpha and gamma → beta through fault proxies`);

    const sent: Sent[] = [];
    let stopping = false;
    const counts: Record<string, number> = {};
    const note = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);

    const clientOf = async (s: Sender): Promise<LoncapadClient | undefined> => {
      if (s.client) return s.client;
      if (!s.daemon) return undefined;
      try {
        s.client = await connect({ spool: s.daemon.host.spool });
      } catch {
        return undefined;
      }
      return s.client;
    };

    const stream = async (s: Sender, k: number): Promise<void> => {
      const name = `u${s.id[0]}${k}`;
      for (let seq = 1; !stopping; seq++) {
        const kind = (['log', 'inc', 'put'] as const)[seq % 3]!;
        const command =
          kind === 'log' ? `log:d1:${name}:s${seq}` : kind === 'inc' ? `inc:d1:${name}:counts:c${seq}` : `put:d1:${name}:vals:k${seq}=${seq}`;
        let c = await clientOf(s);
        while (!c && !stopping) {
          await sleep(50);
          c = await clientOf(s);
        }
        if (!c) return;
        const m: Sent = { stream: name, seq, kind, outcome: 'sent' };
        sent.push(m);
        try {
          m.outcome = await c.critical('beta', command);
        } catch {
          m.outcome = 'unknown'; // the daemon went away with the request: it may or may not have been accepted
          if (s.client === c) s.client = undefined;
        }
      }
    };

    const restart = async (s: Sender | 'beta', how: NodeJS.Signals) => {
      if (s === 'beta') {
        await beta!.stop(how);
        beta = undefined;
        await sleep(between(200, 2000));
        beta = await net.start('beta', TIMINGS);
        return;
      }
      const d = s.daemon!;
      s.daemon = undefined;
      const c = s.client;
      s.client = undefined;
      await d.stop(how);
      await c?.close().catch(() => undefined);
      await sleep(between(200, 2000));
      s.daemon = await net.start(s.id, s.extra);
    };

    const faults = async (): Promise<void> => {
      const end = Date.now() + MINUTES * 60_000;
      while (Date.now() < end) {
        await sleep(between(1000, 4000));
        const proxy = pick(Object.entries(proxies));
        const fault = pick(['kill-sender', 'kill-receiver', 'term-sender', 'term-receiver', 'cut', 'stall', 'batch', 'refuse'] as const);
        note(fault);
        say(`fault: ${fault}${['cut', 'stall', 'batch', 'refuse'].includes(fault) ? ` (${proxy[0]} → beta)` : ''}`);
        switch (fault) {
          case 'kill-sender':
            await restart(pick(senders), 'SIGKILL');
            break;
          case 'term-sender':
            await restart(pick(senders), 'SIGTERM');
            break;
          case 'kill-receiver':
            await restart('beta', 'SIGKILL');
            break;
          case 'term-receiver':
            await restart('beta', 'SIGTERM');
            break;
          case 'cut':
            proxy[1].cut();
            break;
          case 'stall':
            proxy[1].stall(true);
            await sleep(between(200, 3000));
            proxy[1].stall(false);
            break;
          case 'batch':
            proxy[1].batch(5);
            await sleep(between(1000, 5000));
            proxy[1].batch(0);
            break;
          case 'refuse':
            await proxy[1].refuse(true);
            proxy[1].cut();
            await sleep(between(500, 3000));
            await proxy[1].refuse(false);
            break;
        }
      }
    };

    const streams = senders.flatMap((s) => Array.from({ length: STREAMS }, (_, k) => stream(s, k)));
    const progress = setInterval(() => say(`sent ${sent.length}`), 15_000);
    await faults();
    stopping = true;
    await Promise.all(streams);
    clearInterval(progress);

    // Heal: every daemon up, every proxy passing bytes, every spool drained.
    say('healing: every daemon up, every proxy open; waiting for the spools to drain');
    for (const p of Object.values(proxies)) {
      await p.refuse(false);
      p.stall(false);
      p.batch(0);
    }
    beta ??= await net.start('beta', TIMINGS);
    for (const s of senders) s.daemon ??= await net.start(s.id, s.extra);
    for (const s of senders) {
      const spool = join(s.daemon!.host.spool, 'spool.sqlite');
      await waitFor(`${s.id}'s spool drained`, () => query(spool, 'SELECT 1 FROM queue LIMIT 1').length === 0, { timeoutMs: 120_000 });
    }
    const aside = senders.flatMap((s) => query<{ peer: string; command: string; reason: string; reply: string | null }>(join(s.daemon!.host.spool, 'spool.sqlite'), 'SELECT peer, command, reason, reply FROM aside'));
    for (const s of senders) await s.client?.close().catch(() => undefined);

    // Count, from the receiver's database.
    const data = join(beta.host.spool, 'data.sqlite');
    const appliedOrder = new Map<string, number[]>(); // stream:kind → seqs in the order applied
    const push = (key: string, seq: number) => (appliedOrder.get(key) ?? appliedOrder.set(key, []).get(key)!).push(seq);
    for (const r of query<{ name: string; text: string }>(data, "SELECT name, text FROM activity WHERE name LIKE 'u%' ORDER BY id")) push(`${r.name}:log`, Number(r.text.slice(1)));
    for (const r of query<{ name: string; ns: string; payload: string }>(data, "SELECT name, ns, payload FROM history WHERE ns IN ('counts', 'vals') ORDER BY id")) {
      push(`${r.name}:${r.ns === 'counts' ? 'inc' : 'put'}`, Number(/^[ck](\d+)/.exec(r.payload)![1]));
    }
    const incValues = new Map(query<{ name: string; key: string; value: string }>(data, "SELECT name, key, value FROM kv WHERE ns = 'counts'").map((r) => [`${r.name}:${r.key.slice(1)}`, Number(r.value)]));

    const acknowledged = (m: Sent) => m.outcome === 'ok' || m.outcome === 'con_delayed';
    let applied = 0;
    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    const problems: string[] = [];
    for (const [key, seqs] of appliedOrder) {
      const seen = new Set<number>();
      for (let i = 0; i < seqs.length; i++) {
        if (seen.has(seqs[i]!)) {
          duplicated++;
          problems.push(`duplicated: ${key} #${seqs[i]}`);
        }
        seen.add(seqs[i]!);
        if (i > 0 && seqs[i]! < seqs[i - 1]!) {
          outOfOrder++;
          problems.push(`out of order: ${key} #${seqs[i]} applied after #${seqs[i - 1]}`);
        }
      }
    }
    for (const [key, n] of incValues) {
      if (n > 1) {
        duplicated++;
        problems.push(`duplicated: inc ${key} applied ${n} times`);
      }
    }
    for (const m of sent) {
      const isApplied = appliedOrder.get(`${m.stream}:${m.kind}`)?.includes(m.seq) ?? false;
      if (isApplied) applied++;
      if (acknowledged(m) && !isApplied) {
        lost++;
        problems.push(`lost: ${m.stream} ${m.kind} #${m.seq} (answered ${m.outcome})`);
      }
    }
    const outcomes: Record<string, number> = {};
    for (const m of sent) outcomes[m.outcome] = (outcomes[m.outcome] ?? 0) + 1;
    const ack = sent.filter(acknowledged).length;
    say(`faults: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    say(`replies: ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    say(`set aside on the senders: ${aside.length}${aside.length ? ' ' + JSON.stringify(aside.slice(0, 5)) : ''}`);
    for (const p of problems.slice(0, 30)) say(p);
    say(`SOAK sent ${sent.length} / acknowledged ${ack} / applied ${applied} / lost ${lost} / duplicated ${duplicated} / out of order ${outOfOrder}`);
    return lost + duplicated + outOfOrder + aside.length === 0 ? 0 : 1;
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`soak failed: ${err.stack ?? err.message}\n`);
    process.exit(2);
  },
);
