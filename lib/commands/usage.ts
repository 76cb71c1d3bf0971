/**
 * How much a user stores on this server, against the per-user quota
 * (`loncapad user show` prints it):
 *
 *   usage:<udom>:<uname>   → bytes=<n>&quota=<n>   (quota=0: no quota)
 *
 * Bytes are those of the text kept for her: keys and values, record ids and
 * pairs, history, activity log (store/usage-table.ts). Not a classic lond
 * command; a user who stores nothing here answers bytes=0.
 */
import { userOf } from './fields';
import type { CommandSpec } from './table';

const usage: CommandSpec = {
  name: 'usage',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 2, max: 2 },
  run(ctx, [udom, uname]) {
    const table = ctx.services.store.usage;
    return `bytes=${table.bytes(userOf(udom, uname))}&quota=${table.quota()}`;
  },
};

export const usageCommands: CommandSpec[] = [usage];
