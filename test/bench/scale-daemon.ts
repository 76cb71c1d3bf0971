/**
 * The daemon under test in the scale bench (scale.ts), and a local client
 * that pings it: a `bin/loncapad start` child process with the probe
 * (scale-probe.ts) loaded, its log in a file, its RSS and CPU time read
 * from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '../../lib';
import { BIN } from '../helpers/network';
import { waitFor } from '../helpers/wait';
import { median, percentile as pct, processCpuTicks, sleep } from './measure';
import {
  BACKOFF,
  CONNECT_TIMEOUT_MS,
  DAEMON_ID,
  DEAD_AFTER_FAILURES,
  IDLE_TIMEOUT_MS,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
  PORT,
  withFds,
  type Network,
} from './scale-network';

/** RSS is read this many times, this far apart, and the median kept. */
const RSS_SAMPLES = 5;
const RSS_EVERY_MS = 200;
/** Local pings per second while the links come up or reconnect (LocalPinger). */
const PROBE_PINGS_PER_S = 200;

/** The daemon under test: a child process with the probe (scale-probe.ts) loaded, its log in a file. */
export class ScaleDaemon {
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
    return processCpuTicks(this.pid);
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
export class LocalPinger {
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
