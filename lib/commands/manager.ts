/**
 * Commands only configured manager hosts may send:
 *
 *   reinit:lonc|lond   → ok | error:…   re-read the hosts table
 *
 * Classic lond re-read its table for `lond` and signalled lonc for `lonc`;
 * in loncapad one process does both, so both targets take the same path
 * through the daemon's `reinit` service (the SIGHUP path).
 */
import { badArgs } from '../errors';
import type { CommandSpec } from './table';

const reinit: CommandSpec = {
  name: 'reinit',
  access: 'manager',
  writes: false,
  secret: false,
  fields: { min: 1, max: 1 },
  run(ctx, [target]) {
    if (target !== 'lonc' && target !== 'lond') throw badArgs('reinit target must be lonc or lond');
    return ctx.services.reinit(target);
  },
};

export const managerCommands: CommandSpec[] = [reinit];
