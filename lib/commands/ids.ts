/**
 * The domain's institutional-id map:
 *
 *   idput:<udom>:<id=uname&…>   → ok
 *   idget:<udom>:<id&…>         → uname&uname…  (in the order asked, unknown ids empty)
 *
 * Ids and names are escaped; a name must be a valid user name once unescaped.
 */
import { unescape } from '../client/escape';
import { checkName } from '../store';
import { keysOf, pairsOf } from './fields';
import type { CommandSpec } from './table';
import { auditOf } from './user-data';

const idput: CommandSpec = {
  name: 'idput',
  access: 'domain',
  domainArg: 0,
  writes: true,
  secret: false,
  fields: { min: 2, max: 2 },
  run(ctx, [udom, list]) {
    const domain = checkName('domain', udom);
    const pairs = pairsOf(list, ctx.services.settings.maxValueBytes, 'id');
    for (const [, name] of pairs) checkName('user name', unescape(name));
    ctx.services.store.ids.put(domain, pairs, auditOf(ctx));
    return 'ok';
  },
};

const idget: CommandSpec = {
  name: 'idget',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 2, max: 2 },
  run(ctx, [udom, list]) {
    return ctx.services.store.ids.get(checkName('domain', udom), keysOf(list, 'id')).join('&');
  },
};

export const idCommands: CommandSpec[] = [idput, idget];
