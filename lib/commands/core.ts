/**
 * The network's own commands: liveness, identity, version and load.
 */
import { loadavg } from 'node:os';
import type { CommandSpec } from './table';

const PACKAGE_VERSION: string = (require('../../../package.json') as { version: string }).version;

export const ping: CommandSpec = {
  name: 'ping',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 0, max: 0 },
  run: (ctx) => ctx.served,
};

/** Ping the caller back through this host's own link: checks both directions. */
export const pong: CommandSpec = {
  name: 'pong',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 0, max: 0 },
  run: async (ctx) => `${ctx.served}:${await ctx.services.reply(ctx.caller, 'ping')}`,
};

/** `version[:<caller's version>]` → `version:<ours>`. */
export const version: CommandSpec = {
  name: 'version',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 0, max: 1 },
  run: () => `version:${PACKAGE_VERSION}`,
};

/** 100 × one-minute load average / the load that counts as 100 %. */
export const load: CommandSpec = {
  name: 'load',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 0, max: 0 },
  run: (ctx) => formatPercent(loadPercent(ctx.services.settings.loadLimit)),
};

/** 100 × active sessions / the session count that counts as 100 % (0 = off). */
export const userload: CommandSpec = {
  name: 'userload',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 0, max: 0 },
  run: (ctx) => {
    const { userLoadLimit, activeSessions } = ctx.services.settings;
    return formatPercent(userLoadPercent(activeSessions(), userLoadLimit));
  },
};

/** Bare `sethost:<id>`: may this connection address that alias of ours? */
export const sethost: CommandSpec = {
  name: 'sethost',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 1, max: 1 },
  run: (ctx, [id]) => (ctx.services.ownIds().includes(id!) ? 'ok' : 'unable_to_set'),
};

/** `load`: 100 × one-minute load average / the load average that counts as 100 %. */
export function loadPercent(loadLimit: number): number {
  return (100 * loadavg()[0]!) / loadLimit;
}

/** `userload`: 100 × active sessions / the count that counts as 100 % (0 = off: always 0). */
export function userLoadPercent(activeSessions: number, userLoadLimit: number): number {
  return userLoadLimit > 0 ? (100 * activeSessions) / userLoadLimit : 0;
}

function formatPercent(x: number): string {
  return String(Math.round(x * 100) / 100);
}

export const coreCommands: readonly CommandSpec[] = [ping, pong, version, load, userload, sethost];
