/**
 * `loncapad demo [--dir DIR]`: a small network on this machine, to try.
 *
 *   keys and hosts table in DIR (default: a fresh temporary directory)
 *   → one library and two access servers of domain `demo`, each a daemon on
 *     its own loopback address (127.0.0.2–4, the default ports)
 *   → users, records and an admin (lib/demo/demo-setup.ts)
 *   → the guide: URLs, logins, three things to try (lib/demo/guide.ts)
 *   → runs until SIGINT/SIGTERM (Ctrl-C): stops every daemon it started and
 *     says where the state stays. Enter starts a daemon again that was stopped.
 *
 * The demo's addresses leave 127.0.0.1 (npm start) free, and the test suite
 * uses ports of its own, so neither is in the way of a demo.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { CommandModule } from 'yargs';
import { DEFAULT_PORT, loadOrCreateKeys, publicKeyBase64 } from '../../config';
import { LoncapadError } from '../../errors';
import { DemoDaemons, type DemoHost } from '../../demo/demo-daemons';
import { DEMO_DOMAIN, demoLogins, populateDemo } from '../../demo/demo-setup';
import { demoGuide } from '../../demo/guide';

const DEFAULT_IPS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const HOSTS: ReadonlyArray<{ id: string; role: 'library' | 'access' }> = [
  { id: 'lib1', role: 'library' },
  { id: 'acc1', role: 'access' },
  { id: 'acc2', role: 'access' },
];

interface DemoArgs {
  dir: string | undefined;
  ips: string;
  port: number;
  'http-port': number;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'start a small network on this machine (one library, two access servers) with users to try; Ctrl-C stops it',
  builder: (y) =>
    y.options({
      dir: { type: 'string', describe: 'state directory (kept afterwards; used again if it holds a demo); default: a fresh temporary one' },
      ips: { type: 'string', default: DEFAULT_IPS.join(','), describe: 'the three servers\' addresses (library, access, access), comma-separated' },
      port: { type: 'number', default: DEFAULT_PORT, describe: 'peer port of every server' },
      'http-port': { type: 'number', default: 8080, describe: 'web port of every server (each on its own address)' },
    }) as never,
  handler: async (argv) => {
    const ips = argv.ips.split(',').map((s) => s.trim());
    if (ips.length !== HOSTS.length || new Set(ips).size !== ips.length) {
      throw new LoncapadError('LC_ERR_BAD_ARGS', `--ips takes ${HOSTS.length} different addresses, comma-separated`);
    }
    const dir = argv.dir === undefined ? mkdtempSync(join(tmpdir(), 'loncapad-demo-')) : resolve(argv.dir);
    mkdirSync(dir, { recursive: true });
    const hosts: DemoHost[] = HOSTS.map((h, i) => ({ ...h, ip: ips[i]!, spool: join(dir, h.id) }));
    const hostsFile = writeHostsTable(dir, hosts);

    let stopping = false;
    const daemons = new DemoDaemons({
      dir,
      hostsFile,
      port: argv.port,
      httpPort: argv['http-port'],
      onExit: (host, how) => process.stdout.write(`\n${host.id} stopped (${how}). Press Enter here to start it again.\n`),
    });
    const input = createInterface({ input: process.stdin });
    input.on('line', () => {
      if (!stopping) void restartStopped(daemons, hosts);
    });
    const stop = async (why: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      input.close();
      const stopped = await daemons.stopAll();
      process.stdout.write(`\n${why}: stopped ${stopped.length ? stopped.join(', ') : 'nothing (no server was running)'}. The state stays in ${dir}\n`);
    };
    // Ctrl-C reaches the daemons too (one process group); each stops itself, and stopAll waits for them.
    const stopped = new Promise<void>((done) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(signal).then(done));
    });

    try {
      for (const host of hosts) await daemons.start(host);
      const logins = demoLogins(dir);
      await populateDemo(hosts[0]!, hosts, logins);
      const servers = hosts.map((h) => ({ ...h, pid: daemons.pid(h)! }));
      process.stdout.write(demoGuide({ dir, servers, port: argv.port, httpPort: argv['http-port'], logins }));
    } catch (err) {
      if (stopping) return stopped; // interrupted while starting: that is no failure
      await stop('the demo could not start');
      throw err;
    }
    await stopped;
  },
};

function writeHostsTable(dir: string, hosts: readonly DemoHost[]): string {
  const lines = hosts.map((h) => {
    mkdirSync(h.spool, { recursive: true, mode: 0o750 });
    const key = publicKeyBase64(loadOrCreateKeys(h.spool));
    return `${h.id}:${DEMO_DOMAIN}:${h.role}:${h.id}.demo.invalid:${h.ip}:${key}`;
  });
  const file = join(dir, 'hosts.tab');
  writeFileSync(file, `# loncapad demo: lonid:domain:role:hostname:ip:publickey\n${lines.join('\n')}\n`);
  return file;
}

async function restartStopped(daemons: DemoDaemons, hosts: readonly DemoHost[]): Promise<void> {
  for (const host of hosts) {
    if (daemons.isRunning(host)) continue;
    try {
      const pid = await daemons.start(host);
      process.stdout.write(`${host.id} started again (pid ${pid}).\n`);
    } catch (err) {
      process.stdout.write(`${(err as Error).message}\n`);
    }
  }
}
