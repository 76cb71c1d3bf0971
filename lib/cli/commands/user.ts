/**
 * `loncapad user add|passwd|show|dump`: manage a user on her home server
 * through the local daemon (its hosts table, its links).
 *
 *   add     makeuser on --home (default: this daemon, peer `.`), after checking
 *           that the home is a library server of the domain and that every
 *           library server of the domain answers that she does not live there
 *   passwd  the home by homeServer (or --home), then
 *             default       changeuserauth …:internal:<new> — an operator's reset,
 *                           no old password; refused for a user who does not
 *                           authenticate `internal` unless --switch-to-internal
 *             --verify-old  passwd …:<old>:<new> — the user's own change: the
 *                           old password must match
 *   show    the home by homeServer, then currentauth (mode and realm; the hash
 *           of an internal password is never answered) and usage (bytes
 *           stored against the quota)
 *   dump    the home by homeServer, then dump of one namespace
 *
 * Passwords are read from stdin only (--password-stdin), never from argv:
 * argv shows in `ps` and lands in shell history. They go to the daemon over
 * its local socket; the authentication commands are flagged secret there, so
 * they are never spooled and never logged in clear.
 */
import type { Argv, CommandModule } from 'yargs';
import { connect, type LoncapadClient } from '../../client/connection';
import { homeServer, Lonnet, LonnetError, NO_HOST, type AuthMode, type HostInfo, type StorageUsage, type Transport } from '../../client/lonnet';
import { LoncapadError } from '../../errors';
import { SPOOL_OPTION, table } from '../output';

const AUTH_MODES: readonly AuthMode[] = ['internal', 'krb4', 'krb5', 'localauth', 'unix', 'none'];

/**
 * More than any password the daemon accepts (1024 escaped characters), so a
 * wrong file piped in is refused here instead of being read whole.
 */
const MAX_STDIN_BYTES = 16 * 1024;

const CRITICAL_HELP =
  'send the change as a critical message. Authentication commands carry the password, so the daemon never spools ' +
  'them: if the home server cannot be reached it answers con_lost (not con_delayed), the command fails, and you run it again later';

interface CommonArgs {
  spool: string;
  user: string;
  domain: string;
  home: string | undefined;
  timeout: number | undefined;
}

interface AddArgs extends CommonArgs {
  auth: AuthMode;
  'auth-arg': string;
  'password-stdin': boolean;
  critical: boolean;
}

interface PasswdArgs extends CommonArgs {
  'password-stdin': boolean;
  'verify-old': boolean;
  'switch-to-internal': boolean;
  critical: boolean;
}

interface ShowArgs extends CommonArgs {
  json: boolean;
}

interface DumpArgs extends CommonArgs {
  namespace: string;
  regexp: string | undefined;
  json: boolean;
}

function commonOptions<T>(y: Argv<T>, homeHelp: string) {
  return y
    .options({
      ...SPOOL_OPTION,
      home: { type: 'string', describe: homeHelp },
      timeout: { type: 'number', describe: 'deadline of each request to a server, ms' },
    })
    .positional('user', { type: 'string', demandOption: true, describe: 'user name' })
    .positional('domain', { type: 'string', demandOption: true, describe: "the user's domain" });
}

const FIND_HOME_HELP = "the user's home server (lonid); default: the library server of the domain that claims her";

const addCommand: CommandModule<object, AddArgs> = {
  command: 'add <user> <domain>',
  describe: 'create a user on her home server (makeuser)',
  builder: (y) =>
    commonOptions(y, 'lonid of the library server to make her home; default this daemon')
      .options({
        auth: { choices: AUTH_MODES, default: 'internal' as AuthMode, describe: 'authentication mode' },
        'auth-arg': { type: 'string', default: '', describe: 'krb4/krb5: the realm; localauth: its argument (not for internal)' },
        'password-stdin': { type: 'boolean', default: false, describe: 'read the password from stdin (required for internal)' },
        critical: { type: 'boolean', default: false, describe: CRITICAL_HELP },
      })
      .example('printf "%s\\n" "$PW" | $0 user add alice msu --password-stdin', 'an internal password, never on the command line')
      .example('$0 user add bob msu --home msul2 --auth krb5 --auth-arg MSU.EDU', 'Kerberos, on another library server') as never,
  handler: async (argv) => {
    const secret = await authArgOf(argv);
    await withClient(argv, async (client, lonnet) => {
      const target = argv.home ?? (await client.reply('.', 'ping'));
      const hosts = await hostsOf(client);
      const entry = hosts.find((h) => h.id === target);
      if (!entry) throw new LoncapadError('LC_ERR_NO_SUCH_HOST', `${target} is not in the hosts table`);
      if (entry.domain !== argv.domain || entry.role !== 'library') {
        throw new LoncapadError(
          'LC_ERR_REFUSED',
          `${target} is not a library server of domain ${argv.domain} (it is ${entry.role} in ${entry.domain}); a user's home must be one`,
        );
      }
      await checkNotClaimed(lonnet, hosts, argv);
      const writer = writerOf(client, argv);
      try {
        await writer.makeuser(argv.home ?? '.', argv.domain, argv.user, argv.auth, secret);
      } catch (err) {
        throw explain(err, argv, target, { 'error:already_exists': `${who(argv)} already lives on ${target}`, refused: notAllowed(argv, target) });
      }
      process.stdout.write(`created ${who(argv)} on ${target} (${argv.auth})\n`);
    });
  },
};

const passwdCommand: CommandModule<object, PasswdArgs> = {
  command: 'passwd <user> <domain>',
  describe: "set a user's internal password (changeuserauth; with --verify-old, passwd)",
  builder: (y) =>
    commonOptions(y, FIND_HOME_HELP)
      .options({
        'password-stdin': { type: 'boolean', default: false, describe: 'read the new password from stdin (required)' },
        'verify-old': {
          type: 'boolean',
          default: false,
          describe: 'stdin holds two lines, the old password then the new one; the change is made (passwd) only if the old one matches',
        },
        'switch-to-internal': {
          type: 'boolean',
          default: false,
          describe: 'also for a user who authenticates otherwise (krb5, …): she then logs in with this password',
        },
        critical: { type: 'boolean', default: false, describe: CRITICAL_HELP },
      })
      .example('printf "%s\\n" "$NEW" | $0 user passwd alice msu --password-stdin', "an operator's reset (changeuserauth)")
      .example('printf "%s\\n%s\\n" "$OLD" "$NEW" | $0 user passwd alice msu --password-stdin --verify-old', 'the old password must match (passwd)') as never,
  handler: async (argv) => {
    if (!argv['password-stdin']) throw usage('the password is read from stdin only: add --password-stdin');
    // Not yargs' conflicts(): it counts a boolean's default as given.
    if (argv['verify-old'] && argv['switch-to-internal']) throw usage('--verify-old and --switch-to-internal exclude each other');
    const lines = passwordLines(await readStdin(), argv['verify-old'] ? 2 : 1);
    await withClient(argv, async (client, lonnet) => {
      const home = argv.home ?? (await findHome(client, argv));
      const writer = writerOf(client, argv);
      if (argv['verify-old']) {
        let reply: string;
        try {
          reply = await writer.passwd(home, argv.domain, argv.user, lines[0]!, lines[1]!);
        } catch (err) {
          throw explain(err, argv, home, {});
        }
        if (reply === 'non_authorized') throw new LoncapadError('LC_ERR_REFUSED', `old password does not match, or ${who(argv)} does not live on ${home} (non_authorized)`);
        if (reply === 'auth_mode_error') throw new LoncapadError('LC_ERR_REFUSED', `${who(argv)} does not authenticate with an internal password (auth_mode_error)`);
      } else {
        const current = await lonnet.currentauth(home, argv.domain, argv.user).catch((err: unknown) => {
          throw explain(err, argv, home, {});
        });
        if (!current) throw new LoncapadError('LC_ERR_REFUSED', `${who(argv)} does not live on ${home}`);
        if (current.type !== 'internal' && !argv['switch-to-internal']) {
          throw new LoncapadError('LC_ERR_REFUSED', `${who(argv)} authenticates with ${current.type}, not internal; add --switch-to-internal to change that`);
        }
        try {
          await writer.changeuserauth(home, argv.domain, argv.user, 'internal', lines[0]!);
        } catch (err) {
          throw explain(err, argv, home, { 'error:no_such_user': `${who(argv)} does not live on ${home}`, refused: notAllowed(argv, home) });
        }
      }
      process.stdout.write(`password of ${who(argv)} changed on ${home}\n`);
    });
  },
};

const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <user> <domain>',
  describe: "a user's home server and authentication mode (never her password or its hash)",
  builder: (y) => commonOptions(y, FIND_HOME_HELP).options({ json: { type: 'boolean', default: false, describe: 'one JSON object' } }) as never,
  handler: async (argv) => {
    await withClient(argv, async (client, lonnet) => {
      const home = argv.home ?? (await findHome(client, argv));
      const auth = await lonnet.currentauth(home, argv.domain, argv.user).catch((err: unknown) => {
        throw explain(err, argv, home, {});
      });
      if (!auth) throw new LoncapadError('LC_ERR_REFUSED', `${who(argv)} does not live on ${home}`);
      const usage = await lonnet.usage(home, argv.domain, argv.user).catch((err: unknown) => {
        throw explain(err, argv, home, {});
      });
      if (argv.json) {
        process.stdout.write(JSON.stringify({ user: argv.user, domain: argv.domain, home, auth, usage }) + '\n');
        return;
      }
      const mode = auth.arg === '' ? auth.type : `${auth.type} (${auth.arg})`;
      process.stdout.write(`user    ${argv.user}\ndomain  ${argv.domain}\nhome    ${home}\nauth    ${mode}\nusage   ${usageText(usage)}\n`);
    });
  },
};

const dumpCommand: CommandModule<object, DumpArgs> = {
  command: 'dump <user> <domain> <namespace>',
  describe: "the key/value pairs of one of a user's namespaces, in key order",
  builder: (y) =>
    commonOptions(y, FIND_HOME_HELP)
      .positional('namespace', { type: 'string', demandOption: true, describe: 'e.g. environment, roles, a course id' })
      .options({
        regexp: { type: 'string', describe: 'only keys matching this regular expression' },
        json: { type: 'boolean', default: false, describe: 'one JSON object, key → value' },
      }) as never,
  handler: async (argv) => {
    await withClient(argv, async (client, lonnet) => {
      const home = argv.home ?? (await findHome(client, argv));
      const options = argv.regexp === undefined ? {} : { regexp: argv.regexp };
      const pairs = await lonnet.dump(home, argv.domain, argv.user, argv.namespace, options).catch((err: unknown) => {
        throw explain(err, argv, home, {});
      });
      if (argv.json) {
        process.stdout.write(JSON.stringify(pairs) + '\n');
        return;
      }
      process.stdout.write(table(['KEY', 'VALUE'], Object.entries(pairs).map(([k, v]) => [printable(k), printable(v)])));
    });
  },
};

export const userCommand: CommandModule = {
  command: 'user',
  describe: "manage a user on her home server: add, passwd, show, dump (loncapad user <action> --help)",
  builder: (y) =>
    y
      .command(addCommand)
      .command(passwdCommand)
      .command(showCommand)
      .command(dumpCommand)
      .demandCommand(1, 'name an action: add, passwd, show or dump'),
  handler: () => {},
};

// ---- helpers -------------------------------------------------------------------

function who(argv: CommonArgs): string {
  return `${argv.user} in ${argv.domain}`;
}

/** The home refused an account change: this host is neither a library server of her domain nor its manager. */
function notAllowed(argv: CommonArgs, home: string): string {
  return (
    `${home} refused: only library servers of ${argv.domain} and the hosts it lists as managers may create users ` +
    'or reset passwords; run this there, or add this host to its --managers'
  );
}

function usage(message: string): LoncapadError {
  return new LoncapadError('LC_ERR_BAD_ARGS', message);
}

function lookupOptions(argv: CommonArgs): { timeoutMs?: number } {
  return argv.timeout === undefined ? {} : { timeoutMs: argv.timeout };
}

async function withClient(argv: CommonArgs, run: (client: LoncapadClient, lonnet: Lonnet) => Promise<void>): Promise<void> {
  const client = await connect({ spool: argv.spool });
  try {
    await run(client, new Lonnet(client, lookupOptions(argv)));
  } finally {
    await client.close();
  }
}

/** The Lonnet that makes the change: through the critical path with --critical. */
function writerOf(client: LoncapadClient, argv: CommonArgs & { critical: boolean }): Lonnet {
  if (!argv.critical) return new Lonnet(client, lookupOptions(argv));
  const critical: Transport = {
    reply: (peer, command, opts) => client.critical(peer, command, opts),
    critical: (peer, command) => client.critical(peer, command, lookupOptions(argv)),
  };
  return new Lonnet(critical, lookupOptions(argv));
}

/** The hosts table as the daemon knows it (the local-only `hosts` command). */
async function hostsOf(client: LoncapadClient): Promise<HostInfo[]> {
  const reply = await client.admin('hosts');
  if (!reply.startsWith('[')) throw new LoncapadError('LC_ERR_REFUSED', `the daemon did not list its hosts table (${reply})`);
  return JSON.parse(reply) as HostInfo[];
}

/**
 * Stricter than homeServer, which takes a server that does not answer for
 * one that does not claim her: before a user is made, every library server
 * of her domain must say `not_found`, or she could end up with two homes.
 */
async function checkNotClaimed(lonnet: Lonnet, hosts: readonly HostInfo[], argv: CommonArgs): Promise<void> {
  const libraries = hosts.filter((h) => h.domain === argv.domain && h.role === 'library').map((h) => h.id);
  const answers = await Promise.allSettled(libraries.map((id) => lonnet.home(id, argv.domain, argv.user)));
  let failed: { id: string; reason: unknown } | undefined;
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 'rejected') failed ??= { id: libraries[i]!, reason: answer.reason };
    else if (answer.value) throw new LoncapadError('LC_ERR_REFUSED', `${who(argv)} already lives on ${libraries[i]}`);
  }
  if (!failed) return;
  if (!(failed.reason instanceof LonnetError) || failed.reason.code !== 'con_lost') throw explain(failed.reason, argv, failed.id, {});
  throw new LoncapadError(
    'LC_ERR_PEER_DOWN',
    `cannot tell whether ${who(argv)} already lives on ${failed.id} (${failed.reason.reply}); run it again when it answers`,
  );
}

async function findHome(client: LoncapadClient, argv: CommonArgs): Promise<string> {
  const home = await homeServer(client, await hostsOf(client), argv.user, argv.domain, lookupOptions(argv));
  if (home === NO_HOST) throw new LoncapadError('LC_ERR_NO_SUCH_HOST', `no library server of domain ${argv.domain} claims ${argv.user} (no_host)`);
  return home;
}

/** A classic failure reply as an operator reads it; the message never holds the command line. */
function explain(err: unknown, argv: CommonArgs, home: string, known: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof LonnetError)) return err;
  const text = known[err.reply];
  if (text !== undefined) return new LoncapadError('LC_ERR_REFUSED', text);
  if (err.code === 'con_lost') return new LoncapadError('LC_ERR_PEER_DOWN', `${home} did not answer (con_lost); nothing was spooled, run it again later`);
  if (err.code === 'no_such_host') return new LoncapadError('LC_ERR_NO_SUCH_HOST', `${home} is not in the hosts table (no_such_host)`);
  return new LoncapadError('LC_ERR_REFUSED', `${home} answered ${err.reply} for ${who(argv)}`);
}

/** The secret argument of makeuser: the password from stdin, or the plain --auth-arg. */
async function authArgOf(argv: AddArgs): Promise<string> {
  if (argv.auth === 'internal') {
    if (argv['auth-arg'] !== '') throw usage('--auth-arg is not for internal: the password is read from stdin (--password-stdin)');
    if (!argv['password-stdin']) throw usage('an internal password is read from stdin only: add --password-stdin');
    return passwordLines(await readStdin(), 1)[0]!;
  }
  if (argv['password-stdin']) throw usage(`--password-stdin is only for --auth internal, not ${argv.auth}`);
  return argv['auth-arg'];
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('loncapad: reading the password from stdin (end with Ctrl-D)\n');
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_STDIN_BYTES) throw usage(`stdin holds more than ${MAX_STDIN_BYTES} bytes; expected a password`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Exactly `count` lines; the final line break is optional, like `docker login
 * --password-stdin`. Nothing else is trimmed: spaces may belong to a password.
 */
function passwordLines(text: string, count: number): string[] {
  const body = text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
  const lines = body.split(/\r?\n/);
  if (lines.length !== count) {
    throw usage(count === 1 ? 'expected one password on stdin, one line' : 'expected two lines on stdin: the old password, then the new one');
  }
  if (lines.some((l) => l === '')) throw usage('empty password on stdin');
  return lines;
}

/** `1234 of 268435456 bytes (0.0 %)`, or `1234 bytes (no quota)`. */
function usageText({ bytes, quotaBytes }: StorageUsage): string {
  if (quotaBytes === 0) return `${bytes} bytes (no quota)`;
  return `${bytes} of ${quotaBytes} bytes (${((100 * bytes) / quotaBytes).toFixed(1)} %)`;
}

/** Control characters made visible, for the table; --json gives the exact text. */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
