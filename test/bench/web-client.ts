/**
 * The load generator for benchWeb, run in a worker thread so that the
 * client's own CPU does not share the event loop with the servers measured.
 * Closed loop: `concurrency` workers, each sending its next request when the
 * previous answer has been read, over keep-alive connections.
 */
import { Agent, get } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface ClientJob {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly requests: number;
  readonly concurrency: number;
}

export interface ClientResult {
  readonly requestsPerSecond: number;
  readonly bytes: number;
  readonly failures: number;
}

function fetchOnce(agent: Agent, job: ClientJob): Promise<{ ok: boolean; bytes: number }> {
  return new Promise((resolve, reject) => {
    get({ host: job.host, port: job.port, path: job.path, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ ok: res.statusCode === 200, bytes }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function run(job: ClientJob): Promise<ClientResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  let remaining = job.requests;
  let bytes = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (remaining > 0) {
        remaining--;
        const r = await fetchOnce(agent, job);
        bytes += r.bytes;
        if (!r.ok) failures++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { requestsPerSecond: job.requests / seconds, bytes, failures };
}

if (parentPort !== null) {
  const port = parentPort;
  run(workerData as ClientJob).then(
    (result) => port.postMessage(result),
    (err: unknown) => {
      throw err;
    },
  );
}
