/**
 * The scale bench's network (scale.ts): the daemon's address and settings,
 * 1,000 peers with their own keys at their own loopback addresses, the
 * hosts table that lists them all, and the open-files limit they need.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { loadOrCreateKeys, publicKeyBase64 } from '../../lib/config';
import type { Tap } from '../helpers/network';
import type { PeerSpec } from './scale-peer-stats';

/** Outside the tests' ports (15663 + offsets, 18xxx) and addresses (127.0.x.y). */
export const PORT = 16663;
export const DAEMON_IP = '127.2.0.1';
export const DAEMON_ID = 'hub';
/** Peers per third octet: 127.2.1.1 … 127.2.1.250, 127.2.2.1 … */
const PEERS_PER_OCTET = 250;
/** The daemon's defaults, written out so that the helpers use the same (docs/configuration.md). */
export const PING_INTERVAL_MS = 30_000;
export const PING_TIMEOUT_MS = 10_000;
export const CONNECT_TIMEOUT_MS = 5_000;
export const BACKOFF = { floorMs: 250, ceilingMs: 60_000 };
export const DEAD_AFTER_FAILURES = 3;
/** Longest setting there is: the daemon's outbound links must not close for idleness during the bench. */
export const IDLE_TIMEOUT_MS = 86_400_000;

// ---- limits -------------------------------------------------------------------

/** The soft and hard limit on open files of this process (children inherit them). */
export function fdLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))!;
  const [soft, hard] = line
    .replace('Max open files', '')
    .trim()
    .split(/\s+/)
    .map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft!, hard: hard! };
}

/**
 * How `need` descriptors are had: the inherited soft limit when it is
 * enough; else the soft limit raised with prlimit, up to the hard limit;
 * past the hard limit only with CAP_SYS_RESOURCE (root outside a container),
 * which is tried once. Says what it did, for the bench's output.
 */
export function planFds(need: number): { prefix: string[]; note: string } {
  const { soft, hard } = fdLimits();
  if (soft >= need) return { prefix: [], note: `enough: the daemon needs ~${need}` };
  if (hard >= need) return { prefix: ['prlimit', `--nofile=${need}:`, '--'], note: `soft limit raised to ${need} for the daemon and the helpers with prlimit` };
  const raised = spawnSync('prlimit', [`--nofile=${need}:${need}`, '--', 'true'], { stdio: 'ignore' }).status === 0;
  if (raised) return { prefix: ['prlimit', `--nofile=${need}:${need}`, '--'], note: `soft and hard limits raised to ${need} with prlimit` };
  return {
    prefix: ['prlimit', `--nofile=${hard}:`, '--'],
    note: `the daemon needs ~${need} but the hard limit is ${hard} and cannot be raised here: expect EMFILE; use --scale-peers ${Math.floor((hard - 256) / 3)} or less`,
  };
}

/** `cmd args` with the descriptors `planFds(need)` could get. */
export function withFds(need: number, cmd: string, args: readonly string[]): [string, string[]] {
  const { prefix } = planFds(need);
  return prefix.length === 0 ? [cmd, [...args]] : [prefix[0]!, [...prefix.slice(1), cmd, ...args]];
}

// ---- the network ---------------------------------------------------------------

export interface Network {
  readonly dir: string;
  readonly spool: string;
  readonly hostsFile: string;
  readonly peers: PeerSpec[];
  readonly daemonKey: string;
}

function peerIp(i: number): string {
  return `127.2.${1 + Math.floor(i / PEERS_PER_OCTET)}.${1 + (i % PEERS_PER_OCTET)}`;
}

export function makeNetwork(t: Tap, n: number): Network {
  const dir = mkdtempSync(join(tmpdir(), 'lcd-scale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spool = join(dir, 'hub');
  mkdirSync(spool);
  const daemonKey = publicKeyBase64(loadOrCreateKeys(spool));
  const peers: PeerSpec[] = [];
  for (let i = 0; i < n; i++) {
    const kp = nacl.box.keyPair();
    peers.push({ id: `p${i}`, ip: peerIp(i), publicKey: Buffer.from(kp.publicKey).toString('base64'), secretKey: Buffer.from(kp.secretKey).toString('base64') });
  }
  const lines = [`${DAEMON_ID}:d1:library:hub.example.org:${DAEMON_IP}:${daemonKey}`, ...peers.map((p) => `${p.id}:d1:access:${p.id}.example.org:${p.ip}:${p.publicKey}`)];
  const hostsFile = join(dir, 'hosts.tab');
  writeFileSync(hostsFile, `# scale bench: one daemon and ${n} peers\n${lines.join('\n')}\n`);
  return { dir, spool, hostsFile, peers, daemonKey };
}
