/** `loncapad start`: run the daemon in the foreground until SIGTERM/SIGINT. */
import type { CommandModule } from 'yargs';
import { START_OPTIONS } from '../../config';
import { Daemon } from '../../daemon';

export function startCommand(rawArgs: readonly string[]): CommandModule {
  return {
    command: 'start',
    describe: 'run the daemon in the foreground (logs to stderr)',
    // Flags only: the daemon reads the environment and the config file itself (load.ts), so that an
    // unknown variable or key is named by where it came from instead of yargs' "Unknown argument".
    builder: (y) => y.options(START_OPTIONS),
    handler: async () => {
      // Daemon.start parses the raw arguments itself, so SIGHUP can parse them again.
      const daemon = await Daemon.start(rawArgs);
      const stop = (signal: string) => {
        daemon.log.info(`${signal}: shutting down`);
        void daemon.stop().then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => {
        daemon.log.info('SIGHUP: reloading configuration and hosts table');
        daemon.reload().catch((err: Error) => daemon.log.error(`reload failed: ${err.stack ?? err.message}`));
      });
      // A promise nobody handled is a bug; log it loudly, but one bad path must not take down
      // every client and link of this host (critical messages are safe in the spool either way).
      process.on('unhandledRejection', (err) => {
        daemon.log.error(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`);
      });
      process.on('SIGUSR1', () => {
        daemon.log.info('SIGUSR1: retrying dead peers');
        daemon.retryDead();
      });
      const s = daemon.status();
      process.stdout.write(`ready ${s.hostId} ${s.ip}:${s.port} ${daemon.config.spool}\n`);
    },
  };
}
