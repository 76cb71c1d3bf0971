/** Closed-loop load and the figures every benchmark prints. */

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
