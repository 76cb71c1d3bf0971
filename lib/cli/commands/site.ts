/**
 * `loncapad site mount|unmount|move|list|grant|revoke`: the site map of the
 * running daemon's web processor, changed live (no restart).
 */
import type { Argv, CommandModule } from 'yargs';
import { connect } from '../../client/connection';
import { LoncapadError } from '../../errors';
import { SPOOL_OPTION, table } from '../output';

interface SiteArgs {
  spool: string;
  json: boolean;
  op: string;
  url: string | undefined;
  second: string | undefined;
  third: string | undefined;
  pattern: boolean;
  inherit: boolean;
  name: string | undefined;
}

const USAGE: Record<string, { n: number; usage: string }> = {
  mount: { n: 2, usage: 'site mount <url> <package-key> [--no-pattern] [--no-inherit] [--name <instance>]' },
  unmount: { n: 1, usage: 'site unmount <url>' },
  move: { n: 2, usage: 'site move <old-url> <new-url>   (the nodes below it move along)' },
  list: { n: 0, usage: 'site list [--json]' },
  grant: { n: 3, usage: 'site grant <url> <party> read|admin   (party: public, registered or <user>:<domain>)' },
  revoke: { n: 3, usage: 'site revoke <url> <party> read|admin' },
};

export const siteCommand: CommandModule<object, SiteArgs> = {
  // Fixed positionals rather than a variadic one: the CLI lets a repeated
  // flag's last value win, which also collapses variadic positionals.
  command: 'site <op> [url] [second] [third]',
  describe: 'show and change the site map of the running web processor',
  builder: (y: Argv) =>
    y
      .options({
        ...SPOOL_OPTION,
        json: { type: 'boolean', default: false, describe: 'print JSON' },
        pattern: { type: 'boolean', default: true, describe: 'mount: also serve URLs below the node (--no-pattern: only the node itself)' },
        inherit: { type: 'boolean', default: true, describe: 'mount: inherit privileges from the enclosing node' },
        name: { type: 'string', describe: 'mount: instance name shown to pages' },
      })
      .positional('op', { choices: Object.keys(USAGE), demandOption: true })
      .positional('url', { type: 'string' })
      .positional('second', { type: 'string', describe: 'mount: package key; move: new URL; grant/revoke: party' })
      .positional('third', { type: 'string', describe: 'grant/revoke: read or admin' })
      .epilog(Object.values(USAGE).map((u) => `loncapad ${u.usage}`).join('\n')) as never,
  handler: async (argv) => {
    const spec = USAGE[argv.op]!;
    const args: unknown[] = [argv.url, argv.second, argv.third].filter((a) => a !== undefined).map(String);
    if (args.length !== spec.n) throw new LoncapadError('LC_ERR_BAD_ARGS', `usage: loncapad ${spec.usage}`);
    if (argv.op === 'mount') {
      args.push({ pattern: argv.pattern, inherit: argv.inherit, ...(argv.name ? { instanceName: argv.name } : {}) });
    }
    const client = await connect({ spool: argv.spool });
    let reply: string;
    try {
      reply = await client.admin(`site:${argv.op}:${JSON.stringify(args)}`);
    } finally {
      await client.close();
    }
    if (reply.startsWith('error:') || reply === 'refused') throw new LoncapadError('LC_ERR_BAD_ARGS', reply);
    const result = JSON.parse(reply) as unknown;
    if (argv.json || argv.op !== 'list') {
      process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }
    const nodes = result as Array<{ url: string; packageKey: string; pattern: boolean; inherit: boolean; grants: Array<{ party: string; privilege: string }> }>;
    process.stdout.write(
      table(
        ['URL', 'PACKAGE', 'PATTERN', 'INHERIT', 'GRANTS'],
        nodes.map((n) => [
          n.url,
          n.packageKey || '-',
          n.pattern ? 'yes' : 'no',
          n.inherit ? 'yes' : 'no',
          n.grants.map((g) => `${g.party}:${g.privilege}`).join(' '),
        ]),
      ),
    );
  },
};
