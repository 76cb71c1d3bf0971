/** Closed-loop load and the figures every benchmark prints. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Figures {
  readonly rate: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

function pct(sorted: Float64Array, p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * `inflight` workers each send the next request when the previous answered;
 * the first `warmup` answers are not measured.
 */
export async function closedLoop(
  call: (i: number) => Promise<string>,
  { inflight, count, warmup, expect }: { inflight: number; count: number; warmup: number; expect?: (reply: string) => boolean },
): Promise<Figures> {
  const lat = new Float64Array(count);
  let issued = 0;
  let measured = 0;
  let bad = 0;
  let t0 = 0n;
  const worker = async () => {
    while (issued < warmup + count) {
      const i = issued++;
      const start = process.hrtime.bigint();
      if (i === warmup) t0 = start;
      const reply = await call(i);
      if (expect && !expect(reply)) bad++;
      if (i >= warmup) lat[measured++] = Number(process.hrtime.bigint() - start) / 1e3;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bad > 0) throw new Error(`${bad} unexpected replies`);
  lat.sort();
  return { rate: Math.round(count / secs), p50Us: Math.round(pct(lat, 50)), p99Us: Math.round(pct(lat, 99)) };
}

export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile of an ascending array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

let ticksPerSecond: number | undefined;
/** The kernel's clock ticks per second, the unit of /proc/<pid>/stat's CPU times (usually 100). */
export function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return ticksPerSecond;
}

/** CPU time a process has used so far in user and kernel mode, clock ticks (utime, stime of /proc/<pid>/stat; Linux). */
export function processCpu(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]), system: Number(f[12]) };
}

/** CPU time a process has used so far, clock ticks (utime + stime). */
export function processCpuTicks(pid: number): number {
  const { user, system } = processCpu(pid);
  return user + system;
}

/**
 * Run `work` and say how much CPU each of `pids` and this process spent
 * on it, µs per request (`requests` of them, warm-up included). Ticks are
 * 10 ms, so give it at least a second of work.
 */
export async function withCpu<T>(
  pids: readonly number[],
  requests: number,
  work: () => Promise<T>,
): Promise<T & { cpuUsPerReq: number[]; sysUsPerReq: number[]; clientCpuUsPerReq: number }> {
  const before = pids.map(processCpu);
  const self = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(self);
  const perReq = (ticks: number): number => Math.round((ticks * 1e6) / clockTicksPerSecond() / requests);
  const after = pids.map(processCpu);
  return {
    ...result,
    cpuUsPerReq: after.map((a, i) => perReq(a.user + a.system - before[i]!.user - before[i]!.system)),
    sysUsPerReq: after.map((a, i) => perReq(a.system - before[i]!.system)),
    clientCpuUsPerReq: Math.round((used.user + used.system) / requests),
  };
}
