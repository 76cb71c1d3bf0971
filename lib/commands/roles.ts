/**
 * Role records, the one way to write a user's `roles` namespace:
 *
 *   rolesput:<edom>:<euser>:<udom>:<uname>:<k=v&…>   → ok
 *   rolesdel:<edom>:<euser>:<udom>:<uname>:<k&…>     → ok
 *
 * `<euser>:<edom>` is the user who granted or revoked the role; the history
 * records it beside the calling host. Keys look like `/<cdom>/<cnum>_<role>`
 * and values `<role>_<end>_<start>`, both escaped.
 */
import type { Audit } from '../store';
import type { CommandContext } from './context';
import { keysOf, pairsOf, userOf } from './fields';
import type { CommandSpec } from './table';
import { ROLES_NAMESPACE } from './user-data';

function roleAudit(ctx: CommandContext, edom: string, euser: string): Audit {
  return { byHost: ctx.caller, executor: userOf(edom, euser) };
}

const rolesput: CommandSpec = {
  name: 'rolesput',
  access: 'domain',
  domainArg: 2,
  writes: true,
  secret: false,
  fields: { min: 5, max: 5 },
  run(ctx, [edom, euser, udom, uname, list]) {
    const audit = roleAudit(ctx, edom, euser);
    const roles = pairsOf(list, ctx.services.settings.maxValueBytes, 'role');
    // A grant by the domain's authority is counted but never refused by the quota.
    ctx.services.store.kv.put(userOf(udom, uname), ROLES_NAMESPACE, roles, audit, 'count');
    return 'ok';
  },
};

const rolesdel: CommandSpec = {
  name: 'rolesdel',
  access: 'domain',
  domainArg: 2,
  writes: true,
  secret: false,
  fields: { min: 5, max: 5 },
  run(ctx, [edom, euser, udom, uname, list]) {
    const audit = roleAudit(ctx, edom, euser);
    const roles = keysOf(list, 'role');
    if (roles.length > 0) ctx.services.store.kv.del(userOf(udom, uname), ROLES_NAMESPACE, roles, audit);
    return 'ok';
  },
};

export const roleCommands: CommandSpec[] = [rolesput, rolesdel];
