/**
 * `loncapad res publish|subscribers|list|stats`: resources of the running
 * daemon (docs/replication.md). A thin shell over the local command
 * `res:<op>:<JSON array>`.
 */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { connect } from '../../client/connection';
import { LoncapadError } from '../../errors';
import { SPOOL_OPTION, table } from '../output';

interface ResArgs {
  spool: string;
  json: boolean;
  title: string | undefined;
  timeout: number;
  op: string;
  first: string | undefined;
  second: string | undefined;
}

const USAGE: Record<string, { n: number; usage: string }> = {
  publish: { n: 2, usage: 'res publish <src file> /res/<domain>/<author>/<path> [--title <title>]' },
  subscribers: { n: 1, usage: 'res subscribers /res/<domain>/<author>/<path> [--json]' },
  list: { n: 0, usage: 'res list [--json]' },
  stats: { n: 0, usage: 'res stats [--json]' },
};

/** Publication waits for every subscriber's reply to its update (each within the critical deadline). */
const DEFAULT_TIMEOUT_MS = 120_000;

export const resCommand: CommandModule<object, ResArgs> = {
  command: 'res <op> [first] [second]',
  describe: 'publish resources and look at subscriptions, local copies and replication counters',
  builder: (y: Argv) =>
    y
      .options({
        ...SPOOL_OPTION,
        json: { type: 'boolean', default: false, describe: 'print JSON' },
        title: { type: 'string', describe: 'publish: the title written to the .meta' },
        timeout: { type: 'number', default: DEFAULT_TIMEOUT_MS, describe: 'deadline of the request to the daemon, ms' },
      })
      .positional('op', { choices: Object.keys(USAGE), demandOption: true })
      .positional('first', { type: 'string', describe: 'publish: the source file; subscribers: the URL' })
      .positional('second', { type: 'string', describe: 'publish: the URL' })
      .epilog(Object.values(USAGE).map((u) => `loncapad ${u.usage}`).join('\n')) as never,
  handler: async (argv) => {
    const spec = USAGE[argv.op]!;
    const args = [argv.first, argv.second].filter((a) => a !== undefined).map(String);
    if (args.length !== spec.n) throw new LoncapadError('LC_ERR_BAD_ARGS', `usage: loncapad ${spec.usage}`);
    if (argv.op === 'publish') {
      args[0] = resolve(args[0]!); // the daemon reads it, from its own working directory
      if (argv.title !== undefined) args.push(argv.title);
    }
    const client = await connect({ spool: argv.spool });
    let reply: string;
    try {
      reply = await client.admin(`res:${argv.op}:${JSON.stringify(args)}`, { timeoutMs: argv.timeout });
    } finally {
      await client.close();
    }
    if (reply.startsWith('error:') || reply === 'refused' || reply === 'con_lost') {
      throw new LoncapadError('LC_ERR_BAD_ARGS', reply.replace(/^error:/, ''));
    }
    const result = JSON.parse(reply) as unknown;
    process.stdout.write(argv.json ? JSON.stringify(result) + '\n' : PRINT[argv.op]!(result));
  },
};

interface PublishReport {
  url: string;
  version: number;
  size: number;
  sha256: string;
  kept: string | null;
  subscribers: Array<{ host: string; reply: string }>;
}

interface Copy {
  url: string;
  origin: string;
  version: number;
  size: number;
  lastAccess: string;
}

const PRINT: Record<string, (result: unknown) => string> = {
  publish: (r) => {
    const p = r as PublishReport;
    const head =
      `published ${p.url} version ${p.version} (${p.size} bytes, sha256 ${p.sha256})` +
      (p.kept ? `; previous version kept as ${p.kept}` : '') +
      '\n';
    const subs = p.subscribers.length === 0 ? 'no subscribers\n' : table(['SUBSCRIBER', 'REPLY'], p.subscribers.map((s) => [s.host, s.reply]));
    return head + subs;
  },
  subscribers: (r) => {
    const s = r as { subscribers: Array<{ host: string; ip: string; since: string }> };
    return table(['HOST', 'IP', 'SINCE'], s.subscribers.map((x) => [x.host, x.ip, x.since]));
  },
  list: (r) =>
    table(
      ['URL', 'VERSION', 'ORIGIN', 'SIZE', 'LAST ACCESS'],
      (r as Copy[]).map((c) => [c.url, String(c.version), c.origin, String(c.size), c.lastAccess]),
    ),
  stats: (r) => table(['COUNTER', 'VALUE'], Object.entries(r as Record<string, number>).map(([k, v]) => [k, String(v)])),
};
