/**
 * Operator commands, only for processes on this machine (the CLI talks to
 * the daemon through its local socket with these).
 */
import type { CommandSpec } from './table';

/** `status` → this daemon's status as one line of JSON. */
export const status: CommandSpec = {
  name: 'status',
  access: 'local',
  writes: false,
  secret: false,
  fields: { min: 0, max: 0 },
  run: (ctx) => JSON.stringify(ctx.services.admin.status()),
};

/** `spool:<op>[:<arg>]` → the operation's result as one line of JSON. */
export const spool: CommandSpec = {
  name: 'spool',
  access: 'local',
  writes: false,
  secret: false,
  fields: { min: 1, max: 2 },
  run: (ctx, [op, arg]) => JSON.stringify(ctx.services.admin.spool(op!, arg === undefined || arg === '' ? [] : [arg])),
};

/** `reset_retries[:<peer>]` → retry dead peers now (all, or one). */
export const resetRetries: CommandSpec = {
  name: 'reset_retries',
  access: 'local',
  writes: false,
  secret: false,
  fields: { min: 0, max: 1 },
  run: (ctx, [peer]) => {
    ctx.services.admin.resetRetries(peer || undefined);
    return 'ok';
  },
};

export const adminCommands: readonly CommandSpec[] = [status, spool, resetRetries];
