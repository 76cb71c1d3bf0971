/**
 * The classic key/value commands on a user's namespaces:
 *
 *   put:<dom>:<user>:<ns>:<k=v&…>      → ok
 *   newput:<dom>:<user>:<ns>:<k=v&…>   → ok | key_exists: <k>
 *   get:<dom>:<user>:<ns>:<k&…>        → v&v…  (in the order asked, missing ones empty)
 *   eget:…                             → as get (every link is encrypted already)
 *   del:<dom>:<user>:<ns>:<k&…>        → ok
 *   inc:<dom>:<user>:<ns>:<k[=n]&…>    → ok
 *   log:<dom>:<user>:<text>            → ok
 *
 * The `roles` namespace is written only through rolesput/rolesdel (roles.ts).
 * Writing handlers are synchronous: the dispatcher runs them inside the
 * transaction that also records the critical message's applied id.
 */
import { LoncapadError } from '../errors';
import { checkNamespace, type Audit } from '../store';
import type { CommandContext } from './context';
import { incrementsOf, keysOf, pairsOf, textOf, userOf } from './fields';
import type { CommandSpec } from './table';

export const ROLES_NAMESPACE = 'roles';

/** A namespace that the plain write commands may change. */
export function writableNamespace(ns: string): string {
  checkNamespace(ns);
  if (ns === ROLES_NAMESPACE) {
    throw new LoncapadError('LC_ERR_REFUSED', 'the roles namespace is written only through rolesput and rolesdel');
  }
  return ns;
}

export function auditOf(ctx: CommandContext): Audit {
  return { byHost: ctx.caller };
}

const put: CommandSpec = {
  name: 'put',
  access: 'any',
  writes: true,
  // One pair is one statement (its history row and usage charge are held); more need a savepoint.
  atomicAlone: (args) => !args[3]!.includes('&'),
  secret: false,
  fields: { min: 4, max: 4 },
  run(ctx, [dom, user, ns, list]) {
    const who = userOf(dom, user);
    const space = writableNamespace(ns);
    ctx.services.store.kv.put(who, space, pairsOf(list, ctx.services.settings.maxValueBytes), auditOf(ctx));
    return 'ok';
  },
};

const newput: CommandSpec = {
  name: 'newput',
  access: 'any',
  writes: true,
  secret: false,
  fields: { min: 4, max: 4 },
  run(ctx, [dom, user, ns, list]) {
    const who = userOf(dom, user);
    const space = writableNamespace(ns);
    const taken = ctx.services.store.kv.newPut(who, space, pairsOf(list, ctx.services.settings.maxValueBytes), auditOf(ctx));
    return taken === undefined ? 'ok' : `key_exists: ${taken}`;
  },
};

function runGet(ctx: CommandContext, [dom, user, ns, list]: string[]): string {
  const who = userOf(dom, user);
  return ctx.services.store.kv.get(who, checkNamespace(ns), keysOf(list)).join('&');
}

const get: CommandSpec = {
  name: 'get',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 4, max: 4 },
  run: runGet,
};

/** Classic eget encrypted its reply on an otherwise plain link; every loncapad link is sealed. */
const eget: CommandSpec = { ...get, name: 'eget' };

const del: CommandSpec = {
  name: 'del',
  access: 'any',
  writes: true,
  secret: false,
  fields: { min: 4, max: 4 },
  run(ctx, [dom, user, ns, list]) {
    const who = userOf(dom, user);
    const space = writableNamespace(ns);
    const keys = keysOf(list);
    if (keys.length > 0) ctx.services.store.kv.del(who, space, keys, auditOf(ctx));
    return 'ok';
  },
};

const inc: CommandSpec = {
  name: 'inc',
  access: 'any',
  writes: true,
  secret: false,
  fields: { min: 4, max: 4 },
  run(ctx, [dom, user, ns, list]) {
    const who = userOf(dom, user);
    const space = writableNamespace(ns);
    ctx.services.store.kv.inc(who, space, incrementsOf(list), auditOf(ctx));
    return 'ok';
  },
};

const log: CommandSpec = {
  name: 'log',
  access: 'any',
  writes: true,
  atomicAlone: true, // one activity line and its usage charge, both held
  secret: false,
  fields: { min: 3, max: 3 },
  run(ctx, [dom, user, text]) {
    ctx.services.store.activity.append(userOf(dom, user), ctx.caller, textOf(text));
    return 'ok';
  },
};

export const userDataCommands: CommandSpec[] = [put, newput, get, eget, del, inc, log];
