/**
 * The replication part's commands, registered in the daemon's command table:
 *
 *   sub:<url>                           (home)        <raw URL> | directory | not_found | rejected
 *   unsub:<url>                         (home)        ok | not_subscribed | rejected
 *   update:<url>                        (subscriber)  ok | not_found | rejected | error:transient:…
 *   fetch:<url>                         (home)        ok:<handle>:<size>:<sha256>:<version>:<meta> | …
 *   fetchpart:<handle>:<offset>:<len>   (home)        the bytes, base64
 *   fetchend:<handle>                   (home)        ok | not_found
 *   logintoken:<token>                  (issuer)      user=…&domain=…&token=…&return=… | not_found | rejected
 *   res:<op>:<JSON array>               (local)       publish, subscribers, list, stats, fault
 *
 * `<url>` is `/res/<domain>/<author>/<path>` or the classic file-system
 * form (`…/res/<domain>/…`). docs/replication.md has the flows.
 */
import type { CommandSpec } from '../commands/table';
import { badArgs } from '../errors';
import { parseResourcePath, type ResourcePath } from '../store/resource-files';
import type { Replication } from './replication';

function resource(url: string): ResourcePath | undefined {
  const p = parseResourcePath(url);
  return p !== undefined && p.rel.length > 0 ? p : undefined;
}

/** A non-negative integer field, strictly decimal. */
function count(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw badArgs(`bad ${what}`);
  return Number(text);
}

function spec(name: string, fields: number, run: CommandSpec['run'], access: CommandSpec['access'] = 'any'): CommandSpec {
  return { name, access, writes: false, secret: false, fields: { min: fields, max: fields }, run };
}

export function replicationCommands(r: Replication): CommandSpec[] {
  return [
    spec('sub', 1, async (ctx, [url]) => {
      const p = parseResourcePath(url!);
      return p === undefined ? 'not_found' : r.home.subscribe(p, ctx.caller);
    }),
    spec('unsub', 1, (ctx, [url]) => {
      const p = resource(url!);
      return p === undefined ? 'not_subscribed' : r.home.unsubscribe(p, ctx.caller);
    }),
    spec('update', 1, async (ctx, [url]) => {
      const p = resource(url!);
      return p === undefined ? 'not_found' : r.replicator.update(p, ctx.caller);
    }),
    spec('fetch', 1, async (ctx, [url]) => {
      const p = resource(url!);
      return p === undefined ? 'not_found' : r.home.openTransfer(p, ctx.caller);
    }),
    spec('fetchpart', 3, (ctx, [handle, offset, length]) =>
      r.transfers.read(ctx.caller, handle!, count(offset!, 'offset'), count(length!, 'length')),
    ),
    spec('fetchend', 1, async (ctx, [handle]) => ((await r.transfers.end(ctx.caller, handle!)) ? 'ok' : 'not_found')),
    spec('logintoken', 1, (ctx, [token]) => r.balancer.redeemHere(token!, ctx.caller)),
    spec(
      'res',
      2,
      async (_ctx, [op, json]) => {
        let args: unknown;
        try {
          args = JSON.parse(json!);
        } catch {
          throw badArgs('res arguments must be a JSON array');
        }
        if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw badArgs('res arguments must be a JSON array of strings');
        return JSON.stringify(await r.operate(op!, args as string[]));
      },
      'local',
    ),
  ];
}
