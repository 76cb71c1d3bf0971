/** `loncapad keygen`: create this host's key pair if missing; print the public key. */
import type { CommandModule } from 'yargs';
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadOrCreateKeys, publicKeyBase64 } from '../../config';
import { SPOOL_OPTION } from '../output';

export const keygenCommand: CommandModule<object, { spool: string }> = {
  command: 'keygen',
  describe: "create this host's key pair under SPOOL/keys/ and print the public key for the hosts table",
  builder: (y) => y.options(SPOOL_OPTION),
  handler: (argv) => {
    const spool = resolve(argv.spool);
    mkdirSync(spool, { recursive: true, mode: 0o750 });
    const keys = loadOrCreateKeys(spool);
    if (keys.created) process.stderr.write(`loncapad: new key pair in ${spool}/keys/\n`);
    process.stdout.write(publicKeyBase64(keys) + '\n');
  },
};
