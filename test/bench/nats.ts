/**
 * NATS side by side (`npm run bench -- --only nats`, and part of every full
 * run): request-reply through a real nats-server, over the same hop count as
 * loncapad's ping figure, so that `loncapad / NATS` says how our whole path
 * compares with a mature broker's on this machine, in the same run.
 *
 *   loncapad:  client ─UNIX─▶ daemon A ─sealed TCP─▶ daemon B ─▶ back
 *   NATS:      client ─TCP──▶ nats-server ─TCP─────▶ responder ─▶ back
 *                             (nats-responder.ts, its own process)
 *
 * The client is the official Node client (`nats`, v2) in the bench process,
 * as loncapad's client is; the load is the same closed loop (measure.ts)
 * with the same counts, and run.ts interleaves the NATS rounds with the
 * loncapad and plain-relay rounds. NATS does no encryption here (no TLS):
 * the comparison flatters it, which is what the targets assume.
 *
 * nats-server is Debian's `nats-server`. When it is missing and we run as
 * root, it is installed with apt-get; otherwise this part says why it is
 * skipped and the rest of the bench goes on.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { NATS_REPLY, NATS_SUBJECT } from './nats-responder';

/** 4222 is NATS's own port; keep clear of a server someone else may run, and of the tests' ports. */
export const NATS_PORT = 4232;
const NATS_BIN = 'nats-server';

export interface NatsSideBySide {
  /** One request-reply through nats-server and the responder; resolves with the reply text. */
  readonly call: (i: number) => Promise<string>;
  readonly expect: (reply: string) => boolean;
  /** nats-server and the responder, whose CPU time the bench reads. */
  readonly pids: readonly number[];
}

/** The nats-server executable: on PATH, or where Debian puts it (/usr/sbin, often not on a user's PATH). */
function findNatsServer(): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${NATS_BIN}`], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  return ['/usr/sbin', '/usr/bin'].map((d) => join(d, NATS_BIN)).find((f) => existsSync(f));
}

/** The nats-server executable, installed first when it is missing and we may; otherwise the reason it is not there. */
export function ensureNatsServer(say: (line: string) => void): { bin: string } | { missing: string } {
  const bin = findNatsServer();
  if (bin) return { bin };
  if (process.getuid?.() !== 0) return { missing: `${NATS_BIN} is not installed and this is not root (apt-get install nats-server)` };
  say(`nats: ${NATS_BIN} missing; installing it with apt-get`);
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', NATS_BIN], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  // A fresh machine may have no package lists yet: update once and try again.
  if (install().status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
    install();
  }
  const installed = findNatsServer();
  return installed ? { bin: installed } : { missing: `apt-get install ${NATS_BIN} failed` };
}

/** Start `cmd` and resolve once its output matches `ready`; reject if it exits first. */
function startUntil(cmd: string, args: readonly string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (ready.test(out)) {
        p.stdout!.off('data', onData);
        p.stderr!.off('data', onData);
        p.off('exit', onExit);
        // Keep draining so that a chatty child never blocks on a full pipe.
        p.stdout!.resume();
        p.stderr!.resume();
        resolve(p);
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`${cmd} exited (${code}) before it was ready: ${out.slice(-500)}`));
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    p.once('exit', onExit);
  });
}

/**
 * nats-server, the responder and our client connection; stopped by the
 * teardown. Resolves with the reason instead when nats-server cannot be had.
 */
export async function startNats(t: { teardown(fn: () => unknown): void }, say: (line: string) => void): Promise<NatsSideBySide | string> {
  const found = ensureNatsServer(say);
  if ('missing' in found) return found.missing;
  const server = await startUntil(found.bin, ['-a', '127.0.0.1', '-p', String(NATS_PORT)], /Server is ready/);
  t.teardown(() => server.kill());
  const responder = await startUntil(process.execPath, [join(__dirname, 'nats-responder.js'), String(NATS_PORT)], /ready/);
  t.teardown(() => responder.kill());
  const nc: NatsConnection = await connect({ servers: `127.0.0.1:${NATS_PORT}`, name: 'bench-client' });
  t.teardown(() => nc.close());
  const version = spawnSync(found.bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  say(`nats: ${version} on 127.0.0.1:${NATS_PORT}; the responder is process ${responder.pid}`);
  const payload = Buffer.from('ping');
  return {
    call: async () => Buffer.from((await nc.request(NATS_SUBJECT, payload, { timeout: 30_000 })).data).toString(),
    expect: (reply) => reply === NATS_REPLY,
    pids: [server.pid!, responder.pid!],
  };
}
