/**
 * Commands only configured manager hosts may send:
 *
 *   reinit:lonc|lond          → ok | error:…   re-read the hosts table
 *   pushfile:hosts:<escaped>  → ok | error:…   install a new hosts table, then reload
 *
 * Classic lond re-read its table for `lond` and signalled lonc for `lonc`;
 * in loncapad one process does both, so both targets take the same path
 * through the daemon's `reinit` service (the SIGHUP path).
 */
import { unescape } from '../client/escape';
import { badArgs } from '../errors';
import { escapedField } from './fields';
import type { CommandSpec } from './table';

/** A hosts table of a few thousand servers fits easily. */
const MAX_PUSHED_TABLE_CHARS = 4 * 1024 * 1024;

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

/**
 * Classic `lonManage -push hosts`: the manager sends the whole table, escaped
 * (it is full of `:` and newlines). Marked secret as classic lond's pushfile
 * was (must_encrypt): it is never spooled, and its text is not logged. The
 * daemon checks it as it checks a table read at SIGHUP before writing it.
 */
const pushfile: CommandSpec = {
  name: 'pushfile',
  access: 'manager',
  writes: false,
  secret: true,
  fields: { min: 2, max: 2 },
  run(ctx, [table, contents]) {
    if (table !== 'hosts') throw badArgs('pushfile takes the hosts table only');
    return ctx.services.pushHostsTable(unescape(escapedField('table', contents!, MAX_PUSHED_TABLE_CHARS)));
  },
};

export const managerCommands: CommandSpec[] = [reinit, pushfile];
