/**
 * A helper process of the scale bench (scale.ts): it hosts a few hundred
 * loncapad peers of the daemon under test, each with its own key and its
 * own loopback address, speaking the real wire protocol through lib/wire.
 * Each peer is what a real loncapad host is to the daemon:
 *
 *   peer's outbound link ──Hello/Finish, then `k` when silent──▶ daemon's listener
 *   peer's listener ◀──── the daemon's outbound link (Hello, `q ping`, `k`)
 *
 * - The outbound link (PeerOutbound, scale-peer-outbound.ts) behaves as
 *   the daemon's PeerLink does for a peer it holds a backlog for: it
 *   connects, pings after `pingIntervalMs` of silence, drops the link when
 *   nothing comes back within `pingTimeoutMs` more, and after a close
 *   reconnects with the daemon's own jittered backoff (`nextDelayMs`),
 *   marks the daemon dead after `deadAfterFailures` failed attempts (then
 *   retries at the ceiling), and retries at once, eagerly, when the daemon
 *   completes a handshake with it (its start-up announcement:
 *   PeerLink.peerIsBack).
 * - The listener (PeerInbound, scale-peer-inbound.ts) answers the daemon's
 *   outbound link: `k` with `K`, `ping` with its lonid (what a daemon's
 *   `ping` answers), anything else with `unknown_cmd`.
 *
 * Their counters are one PeerStats (scale-peer-stats.ts) per helper.
 *
 * The helpers share the machine's two cores with the daemon (on a real
 * network each peer has its own), so their crypto competes with the
 * daemon's: figures here are pessimistic. Running them at a lower priority
 * was tried and made things worse: a starved peer sends its Finish late,
 * and the daemon's admission counts its handshake as pending meanwhile.
 * One liberty, so that their crowding does not pass for the daemon's
 * doing: a peer's connect and handshake deadlines are decided after the
 * I/O of the turn in which they fire.
 *
 *   node scale-peers.js <config.json>        (spawned by scale.ts, IPC only)
 *
 * The driver talks to it over the IPC channel: `listen`, `connect`, `mark`
 * (start counting the reconnect from now) and `counts`; every message it
 * sends back carries `ev`.
 */
import { readFileSync } from 'node:fs';
import type { StaticKeys } from '../../lib/wire';
import { PeerInbound } from './scale-peer-inbound';
import { PeerOutbound } from './scale-peer-outbound';
import { PeerStats, type HelperConfig, type PeerSpec } from './scale-peer-stats';

/** How often one shared clock checks every outbound link's keep-alive, ms (the daemon checks at a quarter of the interval). */
const CLOCK_MS = 1_000;

function keysOf(p: PeerSpec): StaticKeys {
  return { publicKey: Buffer.from(p.publicKey, 'base64'), secretKey: Buffer.from(p.secretKey, 'base64') };
}

/** Peers in each outbound state now. */
function statesOf(outbound: readonly PeerOutbound[]): Record<string, number> {
  const states: Record<string, number> = {};
  for (const o of outbound) states[o.state] = (states[o.state] ?? 0) + 1;
  return states;
}

async function main(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as HelperConfig;
  const stats = new PeerStats(cfg.peers.length);
  const outbound = cfg.peers.map((p) => new PeerOutbound(p, keysOf(p), cfg, stats));
  const inbound = cfg.peers.map((p, i) => new PeerInbound(p, keysOf(p), cfg, outbound[i]!, stats));
  const clock = setInterval(() => {
    const now = Date.now();
    for (const o of outbound) o.tick(now);
  }, CLOCK_MS);
  const send = (m: object): void => void process.send!(m);
  process.on('message', (msg: { cmd: string }) => {
    switch (msg.cmd) {
      case 'listen':
        void Promise.all(inbound.map((l) => l.listen())).then(
          () => send({ ev: 'listening' }),
          (err: Error) => send({ ev: 'error', message: err.message }),
        );
        break;
      case 'connect':
        stats.mark();
        for (const o of outbound) o.connect();
        break;
      case 'mark':
        stats.mark();
        send({ ev: 'marked' });
        break;
      case 'counts':
        send(stats.report(statesOf(outbound)));
        break;
      case 'exit':
        clearInterval(clock);
        process.exit(0);
        break;
      default:
        send({ ev: 'error', message: `unknown command ${msg.cmd}` });
    }
  });
  // The driver is gone: so are we.
  process.on('disconnect', () => process.exit(0));
  send({ ev: 'started' });
}

if (require.main === module) {
  main(process.argv[2]!).catch((err: Error) => {
    process.stderr.write(`scale peers: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
