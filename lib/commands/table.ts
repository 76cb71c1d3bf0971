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
 *   access   who may call it: any peer, a library server, a library server of
 *            the user's domain (or a manager), a configured manager, or only a
 *            process on this machine; local clients may call everything;
 *   writes   the handler changes the user store; it runs inside one SQLite
 *            transaction together with the critical message's applied-id
 *            record, so it must be synchronous;
 *   atomicAlone  with writes: in a batch, a failing call leaves nothing behind
 *            without a savepoint of its own, because its writes are ones the batch
 *            holds in memory (activity lines, history rows, usage charges: dropped
 *            with it, UserStore.heldWrite) and at most one statement, which SQLite
 *            undoes by itself when it fails. A function of the fields when that
 *            depends on them (a `put` of one pair). A savepoint is two statements
 *            more per call, about a tenth of a put's CPU on the receiving server;
 *   secret   the line carries a password: never spooled, never logged in clear.
 */
import { LoncapadError } from '../errors';
import type { CommandContext } from './context';

/**
 * `domain` is for what makes a user who she is — accounts, authentication,
 * roles, institutional ids: one compromised access server must not own every
 * account of the network, so only the library servers of the user's own
 * domain (where her home is) and configured managers may send these.
 */
export type CommandAccess = 'any' | 'library' | 'domain' | 'manager' | 'local';

export interface CommandSpec {
  readonly name: string;
  readonly access: CommandAccess;
  readonly writes: boolean;
  /** With `writes`: a failing call is undone in a batch without a savepoint of its own (see above). */
  readonly atomicAlone?: boolean | ((args: readonly string[]) => boolean);
  readonly secret: boolean;
  /** With access `domain`: the index of the argument naming the user's domain (without it, only managers). */
  readonly domainArg?: number;
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

/** Why this caller may not run this command with these arguments; undefined when it may. */
export function refusalOf(spec: CommandSpec, ctx: CommandContext, args: readonly string[]): string | undefined {
  if (ctx.local) return undefined;
  switch (spec.access) {
    case 'any':
      return undefined;
    case 'library':
      return ctx.callerRole === 'library' ? undefined : 'not a library server';
    case 'domain':
      return ctx.manager ? undefined : domainRefusal(spec, ctx, args);
    case 'manager':
      return ctx.manager ? undefined : 'not a manager';
    case 'local':
      return 'for local clients only';
    default: {
      const never: never = spec.access;
      return never;
    }
  }
}

/** The caller's domain and role come from the hosts table, as its admission did. */
function domainRefusal(spec: CommandSpec, ctx: CommandContext, args: readonly string[]): string | undefined {
  const domain = spec.domainArg === undefined ? undefined : args[spec.domainArg];
  const caller = ctx.services.hosts().get(ctx.caller);
  if (domain !== undefined && caller?.role === 'library' && caller.domain === domain) return undefined;
  // The domain is the caller's text, not yet checked: name it only when it is a plain name.
  const named = domain !== undefined && PLAIN_DOMAIN_RE.test(domain) ? `domain ${domain}` : "the user's domain";
  const is = caller ? `${caller.role} in ${caller.domain}` : 'not in the hosts table';
  return `only library servers of ${named} and managers may (${ctx.caller} is ${is})`;
}

const PLAIN_DOMAIN_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;
