/**
 * Replication benchmark (`npm run bench -- --only replication`), two real
 * daemons: `lib` (home of the author) and `acc` (an access server).
 *
 * - first access: a 1 MB resource never read on `acc` before, GET on `acc`
 *   until its last byte (sub, then the copy over the sealed peer link in
 *   checked chunks, then served), against a bare node:http download of the
 *   same file from the home's address; median of ROUNDS interleaved pairs,
 *   each pair on a resource of its own; ratio = bare time / loncapad time;
 * - serving a copy: requests/s for an already replicated resource through
 *   acc's request processor, against a bare node:http static-file server
 *   (stat, then stream the file) with the same bytes; the client runs in a
 *   worker thread, 32 keep-alive connections, best of ROUNDS interleaved runs
 *   (target ≥ 0.8).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Lonnet } from '../../lib';
import { makeNetwork, webPort, type Daemon, type Tap } from '../helpers/network';
import type { ClientJob, ClientResult } from './web-client';

const LIB_IP = '127.0.10.6';
const ACC_IP = '127.0.10.7';
const WEB = webPort(18690);
const ROUNDS = 5;
const BIG_BYTES = 1024 * 1024;
/** A typical resource page. */
const PAGE = Buffer.from(`<!DOCTYPE html>\n<p>${'a resource page '.repeat(250)}</p>\n`);
const SERVE_REQUESTS = 10_000;
const SERVE_WARMUP = 2_000;
const CONCURRENCY = 32;

export async function benchReplication(t: Tap): Promise<Record<string, number>> {
  const net = await makeNetwork(t, [
    { id: 'lib', ip: LIB_IP, role: 'library' },
    { id: 'acc', ip: ACC_IP, role: 'access' },
  ]);
  const args = ['--http-port', String(WEB), '--host-url-template', 'http://{ip}:{httpPort}', '--log-level', 'warn'];
  const lib = await net.start('lib', args);
  const acc = await net.start('acc', args);
  const c = await lib.client();
  t.teardown(() => c.close());
  await new Lonnet(c).makeuser('lib', 'd1', 'au', 'internal', 'pw');
  const publish = async (name: string, bytes: Buffer): Promise<string> => {
    const src = join(net.dir, name);
    writeFileSync(src, bytes);
    const url = `/res/d1/au/bench/${name}`;
    const reply = await c.reply('.', `res:publish:${JSON.stringify([src, url])}`, { timeoutMs: 60_000 });
    if (reply.startsWith('error:')) throw new Error(reply);
    return url;
  };

  const bigUrls: string[] = [];
  for (let i = 0; i < ROUNDS + 1; i++) bigUrls.push(await publish(`big${i}.bin`, randomBytes(BIG_BYTES)));
  const pageUrl = await publish('page.html', PAGE);
  const homeFile = (url: string) => join(lib.host.spool, 'res', url.slice('/res/'.length));

  const bare = createServer((req, res) => {
    const file = homeFile(req.url ?? '/');
    stat(file).then(
      (s) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': s.size });
        createReadStream(file).pipe(res);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => bare.listen(0, LIB_IP, resolve));
  t.teardown(() => closeServer(bare));
  const barePort = (bare.address() as AddressInfo).port;
  try {
    return { ...(await firstAccess(bigUrls, barePort)), ...(await serving(acc, pageUrl, barePort)) };
  } finally {
    await acc.stop();
    await lib.stop();
  }
}

async function firstAccess(urls: readonly string[], barePort: number): Promise<Record<string, number>> {
  await download(ACC_IP, WEB, urls[0]!, BIG_BYTES); // links up, home found: warm
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 1; i < urls.length; i++) {
    base.push(await download(LIB_IP, barePort, urls[i]!, BIG_BYTES));
    ours.push(await download(ACC_IP, WEB, urls[i]!, BIG_BYTES));
  }
  const ms = median(ours);
  const bareMs = median(base);
  return { first_access_ms: round(ms, 2), first_access_bare_ms: round(bareMs, 2), first_access_ratio: round(bareMs / ms, 3) };
}

async function serving(acc: Daemon, url: string, barePort: number): Promise<Record<string, number>> {
  await download(ACC_IP, WEB, url, PAGE.length); // replicate it once
  const copies = await acc.call('.', 'res:list:[]');
  if (!copies.includes(url)) throw new Error(`${url} was not replicated: ${copies}`);
  const targets = { served: { host: ACC_IP, port: WEB }, bare: { host: LIB_IP, port: barePort } } as const;
  const best = { served: 0, bare: 0 };
  for (const target of Object.values(targets)) await load(target.host, target.port, url, SERVE_WARMUP);
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of ['served', 'bare'] as const) {
      best[name] = Math.max(best[name], await load(targets[name].host, targets[name].port, url, SERVE_REQUESTS));
    }
  }
  return { serve_rps: round(best.served), serve_bare_rps: round(best.bare), serve_ratio: round(best.served / best.bare, 3) };
}

/** GET until the last byte; ms. */
function download(host: string, port: number, path: string, expectBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host, port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => {
        if (res.statusCode !== 200 || bytes !== expectBytes) reject(new Error(`${path} on ${host}:${port}: ${res.statusCode}, ${bytes} bytes`));
        else resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function load(host: string, port: number, path: string, requests: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const job: ClientJob = { host, port, path, requests, concurrency: CONCURRENCY };
    const worker = new Worker(join(__dirname, 'web-client.js'), { workerData: job });
    worker.once('message', (r: ClientResult) => {
      if (r.failures > 0 || r.bytes !== requests * PAGE.length) reject(new Error(`${path} on ${host}:${port}: ${r.failures} failures`));
      else resolve(r.requestsPerSecond);
    });
    worker.once('error', reject);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
