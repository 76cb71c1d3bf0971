/**
 * Reading what the scale bench's probe wrote (scale-probe.ts), so that its
 * findings come with numbers:
 *
 *   cpu profile  → the functions that took the most time, self and
 *                  inclusive (a function counted once per sample, however
 *                  deep it recurses), in ms; the longest stretches in which
 *                  the loop never idled, and which callbacks filled them
 *   heap snapshot → bytes and objects by constructor; with two snapshots,
 *                  what grew between them (per link, when told how many)
 *
 *   node profile-summary.js cpu <file.cpuprofile> [top]
 *   node profile-summary.js heap <before.heapsnapshot> <after.heapsnapshot> [links] [top]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CpuNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly CpuNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface CpuRow {
  readonly fn: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

function frameKey(n: CpuNode): string {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  // build/lib/peers/link.js → lib/peers/link.js; node:internal/... stays as it is.
  const url = f.url.replace(/^file:\/\//, '').replace(/^.*\/build\//, '');
  return `${name} ${url.startsWith('/') ? basename(url) : url}:${f.lineNumber + 1}`;
}

/** Time per function (self and inclusive) over the whole profile, largest self first. */
export function summarizeCpuProfile(file: string): { wallMs: number; busyMs: number; rows: CpuRow[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let idleUs = 0;
  let allUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // The delta before sample i+1 is the time spent in sample i.
    const us = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i]!)!;
    const key = frameKey(node);
    allUs += us;
    if (key === '(idle)') idleUs += us;
    self.set(key, (self.get(key) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = frameKey(byId.get(id)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const rows = [...self.entries()]
    .map(([fn, us]) => ({ fn, selfMs: us / 1000, totalMs: (total.get(fn) ?? us) / 1000 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { wallMs: allUs / 1000, busyMs: (allUs - idleUs) / 1000, rows };
}

export interface Stall {
  /** How long the loop was busy without a break (no idle sample), ms. */
  readonly ms: number;
  /** When it began, ms from the start of the profile. */
  readonly atMs: number;
  /** Where the time went: the outermost project function (lib/…) of each sample, ms, largest first. */
  readonly entries: ReadonlyArray<readonly [string, number]>;
}

/**
 * The longest stretches without an idle sample: the loop answered nobody
 * else meanwhile, unless the stretch was many short turns (the entries
 * tell). Each sample is put on the outermost named project function of its
 * stack, e.g. `#onConnected lib/peers/link.js`: the callback that ran.
 */
export function longestStalls(file: string, top: number): Stall[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const entryOf = new Map<number, string>();
  const entry = (id: number): string => {
    let got = entryOf.get(id);
    if (got !== undefined) return got;
    let outer: string | undefined;
    let last = frameKey(byId.get(id)!);
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!;
      const key = frameKey(n);
      if (key === '(root)') break;
      last = key;
      // The outermost named project function (socket listeners are anonymous arrows around it).
      if (/\blib\//.test(key) && !key.startsWith('(anonymous)')) outer = key;
    }
    got = outer ?? last;
    entryOf.set(id, got);
    return got;
  };
  const stalls: Stall[] = [];
  let t = 0;
  let begin = -1;
  let busy = new Map<string, number>();
  const close = (endMs: number): void => {
    if (begin < 0) return;
    stalls.push({ ms: endMs - begin, atMs: begin, entries: [...busy.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4) });
    begin = -1;
    busy = new Map();
  };
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(p.samples[i]!)!;
    if (frameKey(node) === '(idle)') close(t);
    else {
      if (begin < 0) begin = t;
      const e = entry(node.id);
      busy.set(e, (busy.get(e) ?? 0) + ms);
    }
    t += ms;
  }
  close(t);
  return stalls.sort((a, b) => b.ms - a.ms).slice(0, top);
}

/** The functions with the most inclusive time (callers of the hot spots), program/idle/root left out. */
export function inclusiveTop(rows: readonly CpuRow[], top: number): CpuRow[] {
  return rows
    .filter((r) => !/^\((root|idle|program|garbage collector)\)/.test(r.fn))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
}

interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[], ...unknown[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

/** Bytes and object counts by constructor (objects and native objects) or by V8 type (strings, code, closures …). */
export function summarizeHeapSnapshot(file: string): Map<string, { bytes: number; count: number }> {
  const h = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = h.snapshot.meta.node_fields;
  const types = h.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < h.nodes.length; i += width) {
    const type = types[h.nodes[i + typeAt]!]!;
    const name = h.strings[h.nodes[i + nameAt]!]!;
    const key = type === 'object' || type === 'native' ? name : `(${type})`;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += h.nodes[i + sizeAt]!;
    e.count++;
    out.set(key, e);
  }
  return out;
}

/** What grew from `before` to `after`, largest growth first. */
export function heapGrowth(before: string, after: string): Array<{ key: string; bytes: number; count: number }> {
  const a = summarizeHeapSnapshot(before);
  const b = summarizeHeapSnapshot(after);
  const rows: Array<{ key: string; bytes: number; count: number }> = [];
  for (const [key, e] of b) {
    const was = a.get(key) ?? { bytes: 0, count: 0 };
    rows.push({ key, bytes: e.bytes - was.bytes, count: e.count - was.count });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}

function main(argv: readonly string[]): void {
  const [what, ...rest] = argv;
  if (what === 'cpu') {
    const top = Number(rest[1] ?? 25);
    const s = summarizeCpuProfile(rest[0]!);
    process.stdout.write(`profile ${s.wallMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms\n-- self\n`);
    for (const r of s.rows.slice(0, top)) process.stdout.write(`${r.selfMs.toFixed(1).padStart(9)} ms ${r.totalMs.toFixed(1).padStart(9)} ms  ${r.fn}\n`);
    process.stdout.write('-- inclusive\n');
    for (const r of inclusiveTop(s.rows, top)) process.stdout.write(`${r.selfMs.toFixed(1).padStart(9)} ms ${r.totalMs.toFixed(1).padStart(9)} ms  ${r.fn}\n`);
    process.stdout.write('-- longest stretches without an idle sample\n');
    for (const st of longestStalls(rest[0]!, 8)) {
      process.stdout.write(`${st.ms.toFixed(1).padStart(9)} ms at ${st.atMs.toFixed(0)} ms: ${st.entries.map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join('; ')}\n`);
    }
  } else if (what === 'heap') {
    const links = Number(rest[2] ?? 1);
    const top = Number(rest[3] ?? 25);
    const rows = heapGrowth(rest[0]!, rest[1]!);
    const sum = rows.reduce((s, r) => s + r.bytes, 0);
    process.stdout.write(`heap grew ${sum} bytes, ${(sum / links).toFixed(0)} per link (${links} links)\n`);
    for (const r of rows.slice(0, top)) {
      process.stdout.write(`${String(r.bytes).padStart(10)} B ${String(r.count).padStart(8)} objs ${(r.bytes / links).toFixed(0).padStart(7)} B/link  ${r.key}\n`);
    }
  } else {
    process.stderr.write('usage: profile-summary.js cpu <file> [top] | heap <before> <after> [links] [top]\n');
    process.exitCode = 2;
  }
}

if (require.main === module) main(process.argv.slice(2));
