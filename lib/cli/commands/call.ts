/**
 * `loncapad call <peer> <command>`: one request through the local daemon.
 * It prints the reply line, and its exit code says what became of the
 * request, so that `loncapad call --critical … || alert` can tell a spooled
 * write from a lost one:
 *
 *   0  the peer (or this daemon) answered
 *   3  con_delayed: spooled, it will be delivered when the peer returns
 *   4  not done, may work later: con_lost, con_failed, no_such_host,
 *      error:transient:…
 *   5  refused: refused, rejected, unknown_cmd, error:<text>
 *   1  bad usage; 2 the daemon could not be reached (as every subcommand)
 */
import type { CommandModule } from 'yargs';
import { connect } from '../../client/connection';
import { MAX_TIMEOUT_MS } from '../../config/options';
import { LoncapadError, replyOutcome, type ReplyOutcome } from '../../errors';
import { SPOOL_OPTION } from '../output';

export const CALL_EXIT = { answered: 0, delayed: 3, notDone: 4, refused: 5 } as const;

const EXIT_OF_OUTCOME: Readonly<Record<ReplyOutcome, number>> = {
  answered: CALL_EXIT.answered,
  delayed: CALL_EXIT.delayed,
  not_done: CALL_EXIT.notDone,
  refused: CALL_EXIT.refused,
};

export function callExitCode(reply: string): number {
  return EXIT_OF_OUTCOME[replyOutcome(reply)];
}

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
  describe:
    'send <cmd> to <peer> ("." is this daemon) and print the reply line. Exit: 0 answered, 3 con_delayed (spooled), ' +
    '4 not done (con_lost, con_failed, no_such_host, error:transient:…), 5 refused (refused, rejected, unknown_cmd, error:…)',
  builder: (y) =>
    y
      .options({
        ...SPOOL_OPTION,
        socket: { type: 'string', describe: 'socket path (default SPOOL/loncapad.sock)' },
        critical: { type: 'boolean', default: false, describe: 'a write that must not be lost (spooled if the peer is away)' },
        timeout: { type: 'number', describe: `deadline in ms, 1 to ${MAX_TIMEOUT_MS} (default: the daemon's)` },
      })
      .positional('peer', { type: 'string', demandOption: true })
      .positional('cmd', { type: 'string', demandOption: true }) as never,
  handler: async (argv) => {
    if (argv.timeout !== undefined && !(Number.isSafeInteger(argv.timeout) && argv.timeout >= 1 && argv.timeout <= MAX_TIMEOUT_MS)) {
      throw new LoncapadError('LC_ERR_BAD_ARGS', `--timeout must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`);
    }
    const client = await connect(argv.socket ? { socket: argv.socket } : { spool: argv.spool });
    try {
      const opts = argv.timeout === undefined ? {} : { timeoutMs: argv.timeout };
      const reply = argv.critical ? await client.critical(argv.peer, argv.cmd, opts) : await client.reply(argv.peer, argv.cmd, opts);
      process.stdout.write(reply + '\n');
      process.exitCode = callExitCode(reply);
    } finally {
      await client.close();
    }
  },
};
