/**
 * `loncapad <command>`: each subcommand is a thin yargs module over the parts
 * in lib/ (cli/commands/<name>.ts). Exit codes: 0 done, 1 bad usage or
 * configuration, 2 the daemon could not be reached.
 */
import yargs from 'yargs';
import { LoncapadError } from '../errors';
import { callCommand } from './commands/call';
import { demoCommand } from './commands/demo';
import { keygenCommand } from './commands/keygen';
import { resCommand } from './commands/res';
import { spoolCommand } from './commands/spool';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
import { siteCommand } from './commands/site';
import { userCommand } from './commands/user';
export { reportError } from './output';

export async function main(argv: readonly string[]): Promise<void> {
  await yargs([...argv])
    .scriptName('loncapad')
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .command(startCommand(argv.slice(1)))
    .command(keygenCommand)
    .command(callCommand)
    .command(statusCommand)
    .command(spoolCommand)
    .command(userCommand)
    .command(siteCommand)
    .command(resCommand)
    .command(demoCommand)
    .demandCommand(1, 'name a command (loncapad --help lists them)')
    .strict()
    .fail((msg, err, y) => {
      if (err) throw err; // reported once, by the caller (bin/loncapad)
      // Throw, not just set the exit code: yargs would otherwise go on and run
      // the command's handler without its required arguments. A mistyped flag
      // is named on its own; the whole help would bury it.
      if (/^Unknown arguments?:/.test(msg)) throw new LoncapadError('LC_ERR_BAD_ARGS', `${msg} (--help lists them)`);
      process.stderr.write(`${y.help()}\n\n`);
      throw new LoncapadError('LC_ERR_BAD_ARGS', msg);
    })
    .help()
    .parseAsync();
}
