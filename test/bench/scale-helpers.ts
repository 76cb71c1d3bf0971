/**
 * The scale bench's helper processes (scale-peers.ts), seen from the
 * driver: start them, tell them what to do over their IPC channels, and
 * sum what they count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BACKOFF,
  CONNECT_TIMEOUT_MS,
  DAEMON_ID,
  DAEMON_IP,
  DEAD_AFTER_FAILURES,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
  PORT,
  withFds,
  type Network,
} from './scale-network';
import type { HelperConfig, HelperCounts } from './scale-peer-stats';

/**
 * A helper answers a command within a turn or two of its loop; one that does
 * not in this long is hung (as one was, deadlocked inside node), and the
 * round fails with its name instead of waiting for ever.
 */
const ANSWER_DEADLINE_MS = 30_000;

export class Helpers {
  readonly #procs: ChildProcess[] = [];
  readonly #waiters = new Map<ChildProcess, Array<{ ev: string; resolve: (m: Record<string, unknown>) => void }>>();

  static async start(net: Network, o: { peers: number; helpers: number }, fdsPerHelper: number): Promise<Helpers> {
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
    const got = new Promise<Record<string, unknown>>((resolve, reject) => {
      const waiter = {
        ev,
        resolve: (m: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        const ws = this.#waiters.get(p)!;
        ws.splice(ws.indexOf(waiter), 1);
        reject(new Error(`scale helper ${p.pid} did not answer "${ev}" in ${ANSWER_DEADLINE_MS} ms: hung`));
      }, ANSWER_DEADLINE_MS);
      this.#waiters.get(p)!.push(waiter);
    });
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
