/** `loncapad status [--json] [--wait N]`: this host and one row per peer. */
import type { CommandModule } from 'yargs';
import { connect } from '../../client/connection';
import type { DaemonStatus } from '../../daemon';
import { LoncapadError } from '../../errors';
import type { SyncTotals } from '../../store/wal-sync';
import { SPOOL_OPTION, table } from '../output';

/** How often `--wait` asks again, ms. */
const WAIT_POLL_MS = 100;

interface StatusArgs {
  spool: string;
  json: boolean;
  wait: number;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: "print this host's id and the state of every peer link",
  builder: (y) =>
    y.options({
      ...SPOOL_OPTION,
      json: { type: 'boolean', default: false, describe: 'one JSON object' },
      wait: {
        type: 'number',
        default: 0,
        describe: 'wait up to this many seconds for the daemon to be ready (a daemon just started in the background)',
      },
    }),
  handler: async (argv) => {
    if (!(Number.isFinite(argv.wait) && argv.wait >= 0 && argv.wait <= 3600)) {
      throw new LoncapadError('LC_ERR_BAD_ARGS', '--wait must be a number of seconds from 0 to 3600');
    }
    const s = argv.wait > 0 ? await readyStatusOf(argv.spool, Date.now() + argv.wait * 1000) : await statusOf(argv.spool);
    if (argv.json) {
      process.stdout.write(JSON.stringify(s) + '\n');
      return;
    }
    process.stdout.write(
      `${s.hostId} on ${s.ip}:${s.port}, pid ${s.pid}, loncapad ${s.version}, up ${Math.round(s.uptimeMs / 1000)} s, ${s.spooled} spooled\n` +
        `durable commits: spool ${syncLine(s.walSyncs.spool)}; store ${syncLine(s.walSyncs.store)}\n`,
    );
    process.stdout.write(
      table(
        ['PEER', 'STATE', 'SINCE', 'RTT MS', 'IN FLIGHT', 'QUEUE', 'RETRIES', 'LAST ERROR'],
        s.peers.map((p) => [
          p.peer,
          p.state,
          p.since,
          p.rttMs === null ? '-' : p.rttMs.toFixed(2),
          String(p.inFlight),
          String(p.queue),
          String(p.retries),
          p.lastError ?? '',
        ]),
      ),
    );
  },
};

/** `12 syncs of the WAL, 0.41 ms each on average`, or `no sync yet`. */
function syncLine(t: SyncTotals): string {
  if (t.syncs === 0) return 'no sync yet';
  return `${t.syncs} sync${t.syncs === 1 ? '' : 's'} of the WAL, ${((t.seconds / t.syncs) * 1000).toFixed(2)} ms each on average`;
}

async function statusOf(spool: string): Promise<DaemonStatus> {
  const client = await connect({ spool });
  try {
    return JSON.parse(await client.admin('status')) as DaemonStatus;
  } finally {
    await client.close();
  }
}

/** The status once the daemon is ready; until `deadline` (ms), one not running or still starting is asked again. */
async function readyStatusOf(spool: string, deadline: number): Promise<DaemonStatus> {
  for (;;) {
    try {
      const status = await statusOf(spool);
      if (status.ready) return status;
      if (Date.now() >= deadline) throw new LoncapadError('LC_ERR_TIMEOUT', `loncapad on ${spool} is still starting`);
    } catch (err) {
      if (!(err instanceof LoncapadError) || err.code !== 'LC_ERR_NOT_RUNNING' || Date.now() >= deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}
