/** `loncapad call <peer> <command>`: one request through the local daemon. */
import type { CommandModule } from 'yargs';
import { connect } from '../../client/connection';
import { SPOOL_OPTION } from '../output';

interface CallArgs {
  spool: string;
  socket: string | undefined;
  critical: boolean;
  timeout: number | undefined;
  peer: string;
  cmd: string;
}

export const callCommand: CommandModule<object, CallArgs> = {
  command: 'call <peer> <cmd>',
  describe: 'send <cmd> to <peer> ("." is this daemon) and print the reply line',
  builder: (y) =>
    y
      .options({
        ...SPOOL_OPTION,
        socket: { type: 'string', describe: 'socket path (default SPOOL/loncapad.sock)' },
        critical: { type: 'boolean', default: false, describe: 'a write that must not be lost (spooled if the peer is away)' },
        timeout: { type: 'number', describe: 'deadline in ms' },
      })
      .positional('peer', { type: 'string', demandOption: true })
      .positional('cmd', { type: 'string', demandOption: true }) as never,
  handler: async (argv) => {
    const client = await connect(argv.socket ? { socket: argv.socket } : { spool: argv.spool });
    try {
      const opts = argv.timeout === undefined ? {} : { timeoutMs: argv.timeout };
      const reply = argv.critical ? await client.critical(argv.peer, argv.cmd, opts) : await client.reply(argv.peer, argv.cmd, opts);
      process.stdout.write(reply + '\n');
    } finally {
      await client.close();
    }
  },
};
