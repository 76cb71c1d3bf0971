/**
 * The classic lond command catalogue that loncapad serves beyond the core
 * commands (ping, pong, version, load, userload, sethost): one list to
 * register in the daemon's command table. docs/commands.md describes each.
 */
import { authCommands } from './auth';
import { dumpCommands } from './dump';
import { idCommands } from './ids';
import { managerCommands } from './manager';
import { recordCommands } from './records';
import { resourceCommands } from './resources';
import { roleCommands } from './roles';
import type { CommandSpec } from './table';
import { tmpCommands } from './tmp';
import { usageCommands } from './usage';
import { userDataCommands } from './user-data';

export const classicCommands: CommandSpec[] = [
  ...userDataCommands,
  ...dumpCommands,
  ...recordCommands,
  ...roleCommands,
  ...idCommands,
  ...tmpCommands,
  ...authCommands,
  ...usageCommands,
  ...resourceCommands,
  ...managerCommands,
];
