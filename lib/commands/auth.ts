/**
 * Who lives here and how she logs in:
 *
 *   home:<udom>:<uname>                        → found | not_found
 *   makeuser:<udom>:<uname>:<mode>:<arg>       → ok | error:already_exists
 *   changeuserauth:<udom>:<uname>:<mode>:<arg> → ok | error:no_such_user
 *   auth:<udom>:<uname>:<pass>[:…]             → authorized | non_authorized
 *   currentauth:<udom>:<uname>                 → internal: | <mode>:<arg> | unknown_user
 *   passwd:<udom>:<uname>:<old>:<new>[:<ctx>]  → ok | non_authorized | auth_mode_error
 *   authtoken:<udom>:<uname>                   → <token> | unknown_user
 *
 * The auth token (not classic) changes with every change of the user's
 * authentication; web sessions carry the token they were opened with, and an
 * access server asks for the current one to tell whether a session still
 * stands (docs/web.md, "Sessions and login").
 *
 * Modes: `internal` (arg = the password, escaped; stored as a scrypt hash),
 * `krb4`/`krb5` (arg = realm), `localauth` (arg for the local module), `unix`
 * and `none` (a record without password login, e.g. a course). Only
 * `internal` can be checked here; `auth` answers non_authorized for the rest.
 *
 * Hashing is asynchronous, so these handlers are not `writes` handlers (those
 * run inside a transaction and must be synchronous). Each computes its hash
 * first and then changes the store in one synchronous statement, so it is
 * still all or nothing. They carry secrets, so they are never spooled:
 * exactly-once does not arise.
 *
 * Password checks (`auth`, the old password of `passwd`) go through the
 * daemon's AuthGuard: throttled per account and calling host, delayed when
 * they fail, logged. Every hash waits in the calling host's line
 * (store/fair-limiter.ts), so one host's flood cannot take the thread pool.
 */
import { unescapeBytes } from '../client/escape';
import { badArgs } from '../errors';
import { hashPassword, verifyPassword, type AuthRecord } from '../store';
import type { CommandContext } from './context';
import { escapedField, userOf } from './fields';
import { splitPrefixes } from './prefixes';
import type { CommandSpec } from './table';

const MAX_PASSWORD_CHARS = 1024;
const INTERNAL = 'internal';
const MODES: ReadonlySet<string> = new Set([INTERNAL, 'krb4', 'krb5', 'localauth', 'unix', 'none']);
/** Realms and local-module arguments: they are answered raw by currentauth, so keep them plain. */
const PLAIN_ARG_RE = /^[A-Za-z0-9_.@-]{0,255}$/;

function passwordOf(field: string): Buffer {
  return unescapeBytes(escapedField('password', field, MAX_PASSWORD_CHARS));
}

function newPasswordOf(field: string): Buffer {
  const password = passwordOf(field);
  if (password.length === 0) throw badArgs('empty password');
  return password;
}

async function authRecordOf(ctx: CommandContext, mode: string, arg: string): Promise<AuthRecord> {
  if (!MODES.has(mode)) throw badArgs('bad authentication mode');
  if (mode === INTERNAL) return { type: INTERNAL, arg: await hashPassword(newPasswordOf(arg), ctx.caller) };
  const plain = unescapeBytes(escapedField('authentication argument', arg, MAX_PASSWORD_CHARS)).toString('utf8');
  if (!PLAIN_ARG_RE.test(plain)) throw badArgs('bad authentication argument');
  return { type: mode, arg: plain };
}

const home: CommandSpec = {
  name: 'home',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 2, max: 2 },
  run(ctx, [udom, uname]) {
    return ctx.services.store.users.exists(userOf(udom, uname)) ? 'found' : 'not_found';
  },
};

const makeuser: CommandSpec = {
  name: 'makeuser',
  access: 'domain',
  domainArg: 0,
  writes: false,
  secret: true,
  fields: { min: 4, max: 4 },
  async run(ctx, [udom, uname, mode, arg]) {
    const who = userOf(udom, uname);
    const record = await authRecordOf(ctx, mode, arg);
    return ctx.services.store.users.create(who, record) ? 'ok' : 'error:already_exists';
  },
};

const changeuserauth: CommandSpec = {
  name: 'changeuserauth',
  access: 'domain',
  domainArg: 0,
  writes: false,
  secret: true,
  fields: { min: 4, max: 4 },
  async run(ctx, [udom, uname, mode, arg]) {
    const who = userOf(udom, uname);
    const record = await authRecordOf(ctx, mode, arg);
    return ctx.services.store.users.setAuth(who, record) ? 'ok' : 'error:no_such_user';
  },
};

/**
 * Unknown users and users without an internal password cost one scrypt
 * like everybody else, so neither the reply nor its timing tells them apart.
 * A throttled attempt costs none and answers non_authorized too.
 */
const auth: CommandSpec = {
  name: 'auth',
  access: 'any',
  writes: false,
  secret: true,
  fields: { min: 3, max: 5 },
  async run(ctx, [udom, uname, pass]) {
    const who = userOf(udom, uname);
    const password = passwordOf(pass);
    const record = ctx.services.store.users.auth(who);
    const stored = record?.type === INTERNAL ? record.arg : undefined;
    const ok = await ctx.services.authGuard.verify(who, ctx.caller, () => verifyPassword(password, stored, ctx.caller));
    if (!ok) ctx.services.onAuthRefused?.(ctx.caller);
    return ok ? 'authorized' : 'non_authorized';
  },
};

const currentauth: CommandSpec = {
  name: 'currentauth',
  access: 'any',
  writes: false,
  secret: true,
  fields: { min: 2, max: 2 },
  run(ctx, [udom, uname]) {
    const record = ctx.services.store.users.auth(userOf(udom, uname));
    if (!record) return 'unknown_user';
    // The hash stays here: classic lond answered `internal:` without the crypt too.
    return record.type === INTERNAL ? `${INTERNAL}:` : `${record.type}:${record.arg}`;
  },
};

/** The optional sixth field (classic's context, e.g. a reset by e-mail) does not relax the check. */
const passwd: CommandSpec = {
  name: 'passwd',
  access: 'any',
  writes: false,
  secret: true,
  fields: { min: 4, max: 5 },
  async run(ctx, [udom, uname, oldField, newField]) {
    const who = userOf(udom, uname);
    const oldPassword = passwordOf(oldField);
    const newPassword = newPasswordOf(newField);
    const users = ctx.services.store.users;
    const record = users.auth(who);
    const guard = ctx.services.authGuard;
    if (record?.type !== INTERNAL) {
      await guard.verify(who, ctx.caller, () => verifyPassword(oldPassword, undefined, ctx.caller));
      return record ? 'auth_mode_error' : 'non_authorized';
    }
    if (!(await guard.verify(who, ctx.caller, () => verifyPassword(oldPassword, record.arg, ctx.caller)))) return 'non_authorized';
    const next: AuthRecord = { type: INTERNAL, arg: await hashPassword(newPassword, ctx.caller) };
    // Compare-and-set: a change that landed while we hashed is not undone.
    return users.replaceAuth(who, record, next) ? 'ok' : 'error:authentication changed meanwhile, try again';
  },
};

/** Not a secret: it names one epoch of her authentication and proves nothing by itself. */
const authtoken: CommandSpec = {
  name: 'authtoken',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 2, max: 2 },
  run(ctx, [udom, uname]) {
    return ctx.services.store.users.authToken(userOf(udom, uname)) ?? 'unknown_user';
  },
};

export const authCommands: CommandSpec[] = [home, makeuser, changeuserauth, auth, currentauth, passwd, authtoken];

const AUTH_CHANGING_PREFIXES: readonly string[] = [`${passwd.name}:`, `${changeuserauth.name}:`];

/**
 * `<user>:<domain>` of the user whose authentication `line` changes when it
 * answers `ok` (`changeuserauth`, `passwd`), else undefined. Lets a server
 * that forwards the change forget what it knew of her sessions at once.
 * Called on every routed line, so the common case is two prefix checks.
 */
export function authChangeSubject(line: string): string | undefined {
  const { rest } = splitPrefixes(line);
  if (!AUTH_CHANGING_PREFIXES.some((prefix) => rest.startsWith(prefix))) return undefined;
  const [, udom, uname] = rest.split(':', 3);
  return uname === undefined ? undefined : `${uname}:${udom}`;
}

/**
 * `route` (a local request's path to its server) that also tells `changed`
 * of every authentication change it carried and that was answered `ok`.
 */
export function watchAuthChanges<O>(
  route: (peer: string, command: string, opts: O) => Promise<string>,
  changed: (userId: string) => void,
): (peer: string, command: string, opts: O) => Promise<string> {
  return (peer, command, opts) => {
    const subject = authChangeSubject(command);
    const reply = route(peer, command, opts);
    if (subject === undefined) return reply;
    return reply.then((answer) => {
      if (answer === 'ok') changed(subject);
      return answer;
    });
  };
}
