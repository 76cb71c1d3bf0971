/**
 * Operator commands, only for processes on this machine (the CLI talks to
 * the daemon through its local socket with these).
 */
import { badArgs } from '../errors';
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

/**
 * `hosts` → the hosts table as one line of JSON, `[{"id","domain","role"},…]`
 * in file order. Local programs need it to find a user's home server (ask
 * every library server of her domain) without reading the daemon's files;
 * addresses and keys stay out of it because no client needs them.
 */
export const hosts: CommandSpec = {
  name: 'hosts',
  access: 'local',
  writes: false,
  secret: false,
  fields: { min: 0, max: 0 },
  run: (ctx) =>
    JSON.stringify(
      ctx.services
        .hosts()
        .all()
        .map((h) => ({ id: h.id, domain: h.domain, role: h.role })),
    ),
};

/** `site:<op>:<JSON array of arguments>` → the result as one line of JSON. */
export const site: CommandSpec = {
  name: 'site',
  access: 'local',
  writes: false,
  secret: false,
  fields: { min: 1, max: 2 },
  run: (ctx, [op, json]) => {
    let args: unknown;
    try {
      args = json ? JSON.parse(json) : [];
    } catch {
      throw badArgs('site arguments must be a JSON array');
    }
    if (!Array.isArray(args)) throw badArgs('site arguments must be a JSON array');
    return JSON.stringify(ctx.services.admin.site(op!, args) ?? null);
  },
};

export const adminCommands: readonly CommandSpec[] = [status, spool, resetRetries, hosts, site];
