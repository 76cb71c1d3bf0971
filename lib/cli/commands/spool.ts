/**
 * `loncapad spool list|show|hold|release|retry|delete|stats [target]`.
 * Through the running daemon when there is one (its counts and replays stay
 * in step), else on the spool file directly.
 */
import { resolve, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { connect } from '../../client/connection';
import { LoncapadError } from '../../errors';
import { runSpoolOp, Spool, SPOOL_OPS, type PeerStats } from '../../spool';
import { SPOOL_OPTION, table } from '../output';

interface SpoolArgs {
  spool: string;
  json: boolean;
  op: string;
  target: string | undefined;
}

export const spoolCommand: CommandModule<object, SpoolArgs> = {
  command: 'spool <op> [target]',
  describe: 'inspect and manage the critical spool (target: a seq number or a peer id)',
  builder: (y) =>
    y
      .options({ ...SPOOL_OPTION, json: { type: 'boolean', default: false, describe: 'print JSON' } })
      .positional('op', { choices: SPOOL_OPS, demandOption: true })
      .positional('target', { type: 'string' }) as never,
  handler: async (argv) => {
    const result = await run(argv);
    if (argv.json || argv.op === 'show') {
      process.stdout.write(JSON.stringify(result, null, argv.json ? 0 : 2) + '\n');
      return;
    }
    process.stdout.write(render(argv.op, result));
  },
};

async function run(argv: SpoolArgs): Promise<unknown> {
  const args = argv.target === undefined ? [] : [argv.target];
  let client;
  try {
    client = await connect({ spool: argv.spool });
  } catch (err) {
    if (!(err instanceof LoncapadError) || err.code !== 'LC_ERR_NOT_RUNNING') throw err;
    const spool = new Spool(join(resolve(argv.spool), 'spool.sqlite'));
    try {
      return runSpoolOp(spool, argv.op, args);
    } finally {
      spool.close();
    }
  }
  try {
    const reply = await client.admin(`spool:${argv.op}:${argv.target ?? ''}`);
    if (reply.startsWith('error:')) throw new LoncapadError('LC_ERR_BAD_ARGS', reply.slice('error:'.length));
    return JSON.parse(reply) as unknown;
  } finally {
    await client.close();
  }
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function render(op: string, result: unknown): string {
  if (op === 'stats') {
    const rows = result as PeerStats[];
    return table(
      ['PEER', 'QUEUED', 'HELD', 'OLDEST', 'FAILED', 'EXPIRED'],
      rows.map((r) => [r.peer, String(r.queued), String(r.held), when(r.oldest), String(r.failed), String(r.expired)]),
    );
  }
  if (op === 'list') {
    const { queue, aside } = result as {
      queue: Array<{ seq: number; peer: string; created_at: number; attempts: number; held: number; command: string }>;
      aside: Array<{ seq: number; peer: string; created_at: number; reason: string; reply: string | null; command: string }>;
    };
    const cmd = (c: string) => (c.length > 60 ? c.slice(0, 60) + '…' : c);
    return (
      table(
        ['SEQ', 'PEER', 'CREATED', 'ATTEMPTS', 'HELD', 'COMMAND'],
        queue.map((r) => [String(r.seq), r.peer, when(r.created_at), String(r.attempts), r.held ? 'yes' : '', cmd(r.command)]),
      ) +
      (aside.length
        ? '\nset aside:\n' +
          table(
            ['SEQ', 'PEER', 'CREATED', 'REASON', 'REPLY', 'COMMAND'],
            aside.map((r) => [String(r.seq), r.peer, when(r.created_at), r.reason, r.reply ?? '', cmd(r.command)]),
          )
        : '')
    );
  }
  const { changed } = result as { changed: number };
  const messages = `${changed} message${changed === 1 ? '' : 's'}`;
  switch (op) {
    case 'hold':
      return `held ${messages} (not replayed until released)\n`;
    case 'release':
      return `released ${messages}\n`;
    case 'retry':
      return `${messages} back in the queue, to be replayed\n`;
    case 'delete':
      return `deleted ${messages}\n`;
    default:
      return JSON.stringify(result) + '\n';
  }
}
