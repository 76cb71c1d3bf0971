/** `loncapad status [--json]`: this host and one row per peer. */
import type { CommandModule } from 'yargs';
import { connect } from '../../client/connection';
import type { DaemonStatus } from '../../daemon';
import { SPOOL_OPTION, table } from '../output';

export const statusCommand: CommandModule<object, { spool: string; json: boolean }> = {
  command: 'status',
  describe: "print this host's id and the state of every peer link",
  builder: (y) => y.options({ ...SPOOL_OPTION, json: { type: 'boolean', default: false, describe: 'one JSON object' } }),
  handler: async (argv) => {
    const client = await connect({ spool: argv.spool });
    let s: DaemonStatus;
    try {
      s = JSON.parse(await client.admin('status')) as DaemonStatus;
    } finally {
      await client.close();
    }
    if (argv.json) {
      process.stdout.write(JSON.stringify(s) + '\n');
      return;
    }
    process.stdout.write(
      `${s.hostId} on ${s.ip}:${s.port}, pid ${s.pid}, loncapad ${s.version}, up ${Math.round(s.uptimeMs / 1000)} s, ${s.spooled} spooled\n`,
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
