/**
 * Who lives here and how she logs in:
 *
 *   home:<udom>:<uname>                        → found | not_found
 *   makeuser:<udom>:<uname>:<mode>:<arg>       → ok | error:already_exists
 *   changeuserauth:<udom>:<uname>:<mode>:<arg> → ok | error:no_such_user
 *   auth:<udom>:<uname>:<pass>[:…]             → authorized | non_authorized
 *   currentauth:<udom>:<uname>                 → internal: | <mode>:<arg> | unknown_user
 *   passwd:<udom>:<uname>:<old>:<new>[:<ctx>]  → ok | non_authorized | auth_mode_error
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

export const authCommands: CommandSpec[] = [home, makeuser, changeuserauth, auth, currentauth, passwd];
