/**
 * `loncapad <command>`: each subcommand is a thin yargs module over the parts
 * in lib/ (cli/commands/<name>.ts). Exit codes: 0 done, 1 bad usage or
 * configuration, 2 the daemon could not be reached.
 */
import yargs from 'yargs';
import { callCommand } from './commands/call';
import { keygenCommand } from './commands/keygen';
import { spoolCommand } from './commands/spool';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
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
    .demandCommand(1, 'name a command (loncapad --help lists them)')
    .strict()
    .fail((msg, err, y) => {
      if (err) throw err; // reported once, by the caller (bin/loncapad)
      else {
        process.stderr.write(`${y.help()}\n\nloncapad: ${msg}\n`);
        process.exitCode = 1;
      }
    })
    .help()
    .parseAsync();
}
