/**
 * Web benchmark (issue 4 §4), in one process run:
 *
 * - requests/s for a static file and for a `.vuh` page through the request
 *   processor, each against a bare node:http handler sending the same bytes
 *   (ratio target ≥ 0.8); the client runs in a worker thread, 32 concurrent
 *   keep-alive connections, a fixed number of requests after a warm-up; and
 *   the main thread's busy time per request (event-loop utilisation), whose
 *   ratio is the capacity ratio once the server, not the client, is the limit;
 * - site-map lookup time in ns with 100 and with 100,000 mounted nodes
 *   (target: the same, since lookup cost follows URL length, not node count),
 *   and with 100,000 nodes when the requests spread over all of them.
 *
 * Run alone: `node build/test/bench/web.js` prints the figures as JSON.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { openDatabase } from '../../lib/store/sqlite';
import { WebServer } from '../../lib/web';
import { SiteNodeTable } from '../../lib/web/site-node-table';
import type { ClientJob, ClientResult } from './web-client';

const HOST = '127.0.4.200';
const REQUESTS = 10_000;
const WARMUP_REQUESTS = 2_000;
const ROUNDS = 5;
const CONCURRENCY = 32;
const LOOKUPS = 1_000_000;
const PAYLOAD = Buffer.from(`<!DOCTYPE html>\n<p>${'loncapad '.repeat(200)}</p>\n`);
const VUH_SOURCE = `const body = Buffer.from(${JSON.stringify(PAYLOAD.toString())});
module.exports = (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
};
`;

export async function benchWeb(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'lc-web-bench-'));
  try {
    const http = await benchHttp(dir);
    // Warm the JIT on the lookup path before any figure is taken.
    benchLookup(100);
    return { ...http, ...benchLookup(100), ...benchLookup(100_000), ...benchLookup(100_000, true) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchHttp(dir: string): Promise<Record<string, number>> {
  await mkdir(join(dir, 'site/www/bench'), { recursive: true });
  await mkdir(join(dir, 'site/packages/bench/www'), { recursive: true });
  await writeFile(join(dir, 'site/www/bench/static.html'), PAYLOAD);
  await writeFile(join(dir, 'site/packages/bench/www/page.vuh'), VUH_SOURCE);
  const db = openDatabase(join(dir, 'data.sqlite'));
  const web = new WebServer({
    host: HOST,
    port: 0,
    db,
    siteDir: join(dir, 'site'),
    keysDir: join(dir, 'keys'),
    auth: { authenticate: async () => false, authToken: async () => undefined, profile: async () => undefined },
    log: () => undefined,
  });
  web.siteMap.mount('/bench/', 'bench');
  await web.start();
  const bare = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': PAYLOAD.length });
    res.end(PAYLOAD);
  });
  await new Promise<void>((resolve) => bare.listen(0, HOST, resolve));
  try {
    const barePort = (bare.address() as AddressInfo).port;
    const targets = {
      static: [web.port, '/bench/static.html'],
      staticBare: [barePort, '/bench/static.html'],
      vuh: [web.port, '/bench/page/some/path/info'],
      vuhBare: [barePort, '/bench/page/some/path/info'],
    } as const;
    type Target = keyof typeof targets;
    const rps: Record<Target, number> = { static: 0, staticBare: 0, vuh: 0, vuhBare: 0 };
    const busyUs: Record<Target, number> = { static: Infinity, staticBare: Infinity, vuh: Infinity, vuhBare: Infinity };
    for (const [port, path] of Object.values(targets)) await load(port, path, WARMUP_REQUESTS);
    // Rounds interleave the four targets and keep each one's best: other load on
    // the machine then hits all of them alike instead of skewing one ratio.
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(targets) as Target[]) {
        const [port, path] = targets[name];
        const run = await load(port, path, REQUESTS);
        rps[name] = Math.max(rps[name], run.requestsPerSecond);
        busyUs[name] = Math.min(busyUs[name], run.serverBusyUsPerRequest);
      }
    }
    return {
      static_rps: round(rps.static),
      static_bare_rps: round(rps.staticBare),
      static_ratio: round(rps.static / rps.staticBare, 3),
      static_server_us: round(busyUs.static, 1),
      static_bare_server_us: round(busyUs.staticBare, 1),
      static_capacity_ratio: round(busyUs.staticBare / busyUs.static, 3),
      vuh_rps: round(rps.vuh),
      vuh_bare_rps: round(rps.vuhBare),
      vuh_ratio: round(rps.vuh / rps.vuhBare, 3),
      vuh_server_us: round(busyUs.vuh, 1),
      vuh_bare_server_us: round(busyUs.vuhBare, 1),
      vuh_capacity_ratio: round(busyUs.vuhBare / busyUs.vuh, 3),
    };
  } finally {
    await web.stop();
    await closeServer(bare);
    db.close();
  }
}

/**
 * One closed-loop run. Besides requests/s (which on a small machine may be
 * bounded by the client thread), it reports how long the servers' event loop
 * was busy per request: the cost that decides capacity once the server is
 * the bottleneck.
 */
async function load(
  port: number,
  path: string,
  requests: number,
): Promise<{ requestsPerSecond: number; serverBusyUsPerRequest: number }> {
  const before = performance.eventLoopUtilization();
  const result = await runClient({ host: HOST, port, path, requests, concurrency: CONCURRENCY });
  const busy = performance.eventLoopUtilization(before);
  if (result.failures > 0 || result.bytes !== requests * PAYLOAD.length) {
    throw new Error(`${path} on port ${port}: ${result.failures} failures, ${result.bytes} bytes`);
  }
  return { requestsPerSecond: result.requestsPerSecond, serverBusyUsPerRequest: (busy.active * 1000) / requests };
}

function runClient(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'web-client.js'), { workerData: job });
    worker.once('message', (result: ClientResult) => resolve(result));
    worker.once('error', reject);
  });
}

/**
 * ns per site-map lookup with `nodes` mounted nodes. The request URLs are the
 * same for every table size (1,000 URLs, three levels below one of 80 course
 * nodes present in every table, ids padded so lengths are equal), so the only
 * thing that changes is how many other nodes the table holds. With `spread`,
 * the URLs instead cover every course: the working set then outgrows the CPU
 * caches, which costs memory latency but is still no walk over the nodes.
 */
function benchLookup(nodes: number, spread = false): Record<string, number> {
  const orgs = 10;
  const id = (n: number) => String(n).padStart(6, '0');
  const courseUrl = (i: number) => `/org${id(i % orgs)}/course${id(i)}/`;
  const table = new SiteNodeTable();
  table.set({ nodeId: 0, url: '/', packageKey: '', instanceName: 'root', pattern: true, inherit: true });
  for (let i = 0; i < orgs; i++) {
    table.set({ nodeId: i + 1, url: `/org${id(i)}/`, packageKey: 'p', instanceName: 'p', pattern: true, inherit: true });
  }
  const courses = nodes - orgs - 1;
  for (let i = 0; i < courses; i++) {
    table.set({ nodeId: orgs + 1 + i, url: courseUrl(i), packageKey: 'p', instanceName: 'p', pattern: true, inherit: true });
  }
  const hot = spread ? courses : 80;
  const urls = Array.from({ length: spread ? 10_000 : 1_000 }, (_, k) => courseUrl((k * 7919) % hot) + 'unit/part/page.html');
  let matched = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < LOOKUPS; i++) {
    const r = table.resolve(urls[i % urls.length]!);
    if (r.kind === 'node' && r.extraUrl === 'unit/part/page.html') matched++;
  }
  const ns = Number(process.hrtime.bigint() - started) / LOOKUPS;
  if (matched !== LOOKUPS) throw new Error(`only ${matched} of ${LOOKUPS} lookups found their course`);
  return { [`lookup_ns_${nodes}${spread ? '_spread' : ''}`]: round(ns, 1) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

if (require.main === module) {
  benchWeb().then(
    (figures) => console.log(JSON.stringify(figures, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
