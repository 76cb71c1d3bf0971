/**
 * The command table: every command the daemon executes, whether it came from
 * a peer over an inbound link or from a local client addressed to this host.
 *
 * A command line is `<name>:<arg>:<arg>…`. The table splits it once, with the
 * spec's field count (the last field keeps any further `:`), checks who may
 * call it, and runs the handler. Handlers never split their own line.
 *
 * Flags follow classic lond's `register_handler(name, sub, must_encrypt,
 * client_ok, manager_ok)`, widened to what loncapad needs:
 *   access   who may call it: any peer, a library server, a configured manager,
 *            or only a process on this machine;
 *   writes   the handler changes the user store; it runs inside one SQLite
 *            transaction together with the critical message's applied-id
 *            record, so it must be synchronous;
 *   secret   the line carries a password: never spooled, never logged in clear.
 */
import { LoncapadError } from '../errors';
import type { CommandContext } from './context';

export type CommandAccess = 'any' | 'library' | 'manager' | 'local';

export interface CommandSpec {
  readonly name: string;
  readonly access: CommandAccess;
  readonly writes: boolean;
  readonly secret: boolean;
  /** Fields after the command word: at least `min`, at most `max` (the last keeps its `:`). */
  readonly fields: { readonly min: number; readonly max: number };
  /** Synchronous when `writes` is set (it runs inside a transaction). */
  run(ctx: CommandContext, args: string[]): string | Promise<string>;
}

export interface ParsedCommand {
  readonly spec: CommandSpec;
  readonly args: string[];
}

export class CommandTable {
  readonly #specs = new Map<string, CommandSpec>();

  register(...specs: CommandSpec[]): this {
    for (const spec of specs) {
      if (this.#specs.has(spec.name)) throw new Error(`command ${spec.name} registered twice`);
      this.#specs.set(spec.name, spec);
    }
    return this;
  }

  get(name: string): CommandSpec | undefined {
    return this.#specs.get(name);
  }

  names(): string[] {
    return [...this.#specs.keys()].sort();
  }

  /** The command word of a line, without parsing the rest. */
  static wordOf(line: string): string {
    const colon = line.indexOf(':');
    return colon < 0 ? line : line.slice(0, colon);
  }

  /** Does this line carry a secret (so it must never be written to disk)? */
  isSecret(line: string): boolean {
    return this.#specs.get(CommandTable.wordOf(line))?.secret ?? false;
  }

  /** Split a line by its spec; throws `unknown_cmd` or `error:` as LoncapadError. */
  parse(line: string): ParsedCommand {
    const name = CommandTable.wordOf(line);
    const spec = this.#specs.get(name);
    if (!spec) throw new LoncapadError('LC_ERR_UNKNOWN_COMMAND', `unknown command ${name.slice(0, 40)}`);
    const args = line.length === name.length ? [] : splitFields(line.slice(name.length + 1), spec.fields.max);
    if (args.length < spec.fields.min) {
      throw new LoncapadError('LC_ERR_BAD_ARGS', `${name} needs ${spec.fields.min} argument${spec.fields.min === 1 ? '' : 's'}`);
    }
    return { spec, args };
  }
}

/** `a:b:c` → up to `max` fields, the last keeping the rest of the line. */
function splitFields(rest: string, max: number): string[] {
  if (max === 0) {
    if (rest.length > 0) throw new LoncapadError('LC_ERR_BAD_ARGS', 'takes no arguments');
    return [];
  }
  const out: string[] = [];
  let start = 0;
  while (out.length < max - 1) {
    const colon = rest.indexOf(':', start);
    if (colon < 0) break;
    out.push(rest.slice(start, colon));
    start = colon + 1;
  }
  out.push(rest.slice(start));
  return out;
}

/** May this caller run this command? */
export function mayCall(spec: CommandSpec, ctx: CommandContext): boolean {
  if (ctx.local) return true;
  switch (spec.access) {
    case 'any':
      return true;
    case 'library':
      return ctx.callerRole === 'library';
    case 'manager':
      return ctx.manager;
    case 'local':
      return false;
    default: {
      const never: never = spec.access;
      return never;
    }
  }
}
