/**
 * Versioned records (classic store/restore, used for every submission):
 *
 *   store:<dom>:<user>:<ns>:<rid>:<k=v&…>   → ok   (appends version N+1)
 *   restore:<dom>:<user>:<ns>:<rid>         → version=N&1:keys=a:b:timestamp&1:a=…&1:b=…&1:timestamp=…&2:keys=…
 *   currentdump:<dom>:<user>:<ns>           → rid:k=v&rid:k=v…  (latest value of each key of each record)
 *
 * `timestamp` is set by the server (unix seconds of the store), as in classic
 * lond, so a client may not send it. A record never stored restores as
 * `version=0`.
 */
import { badArgs } from '../errors';
import { checkNamespace, type RecordRow } from '../store';
import { BoundedReply, buildInTurn, PAGE_ROWS, forEachPage } from './bounded-reply';
import { keyOf, pairsOf, userOf } from './fields';
import type { CommandSpec } from './table';
import { auditOf, writableNamespace } from './user-data';

const TIMESTAMP_KEY = 'timestamp';

function secondsOf(ms: number): string {
  return String(Math.floor(ms / 1000));
}

function recordIdOf(text: string): string {
  return keyOf(text, 'record id');
}

/** The escaped `k=v` items of a stored version, in the order they were sent. */
function itemsOf(pairs: string): Array<[string, string]> {
  return pairs.split('&').map((item) => {
    const eq = item.indexOf('=');
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

const store: CommandSpec = {
  name: 'store',
  access: 'any',
  writes: true,
  secret: false,
  fields: { min: 5, max: 5 },
  run(ctx, [dom, user, ns, rid, list]) {
    const who = userOf(dom, user);
    const space = writableNamespace(ns);
    const id = recordIdOf(rid);
    const pairs = pairsOf(list, ctx.services.settings.maxValueBytes);
    if (pairs.some(([k]) => k === TIMESTAMP_KEY)) throw badArgs('timestamp is set by the server');
    ctx.services.store.records.store(who, space, id, pairs, auditOf(ctx));
    return 'ok';
  },
};

const restore: CommandSpec = {
  name: 'restore',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 4, max: 4 },
  run(ctx, [dom, user, ns, rid]) {
    const who = userOf(dom, user);
    const space = checkNamespace(ns);
    const reply = new BoundedReply('restore', ctx.services.settings.maxReplyBytes);
    let last = 0;
    for (const { version, at, pairs } of ctx.services.store.records.versions(who, space, recordIdOf(rid))) {
      const items = itemsOf(pairs);
      reply.add(`${version}:keys=${[...items.map(([k]) => k), TIMESTAMP_KEY].join(':')}`);
      for (const [k, v] of items) reply.add(`${version}:${k}=${v}`);
      reply.add(`${version}:${TIMESTAMP_KEY}=${secondsOf(at)}`);
      last = version;
    }
    return reply.count === 0 ? 'version=0' : `version=${last}&${reply.join()}`;
  },
};

/** Record ids and keys are escaped, so neither contains the `:` that joins them. */
const currentdump: CommandSpec = {
  name: 'currentdump',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 3, max: 3 },
  run(ctx, [dom, user, ns]) {
    const who = userOf(dom, user);
    const space = checkNamespace(ns);
    return buildInTurn(ctx, async () => {
      const reply = new BoundedReply('currentdump', ctx.services.settings.maxReplyBytes);
      const records = ctx.services.store.records;
      // Rows come in (rid, version) order, so one record's versions are adjacent
      // and each record is emitted as soon as the next one starts.
      let rid: string | undefined;
      let latest = new Map<string, string>();
      const emit = (): void => {
        for (const [k, v] of latest) reply.add(`${rid}:${k}=${v}`);
      };
      await forEachPage(
        { rid: '', version: 0 },
        (after) => records.rowsAfter(who, space, after, PAGE_ROWS),
        (row: RecordRow) => ({ rid: row.rid, version: row.version }),
        (page) => {
          for (const row of page) {
            if (row.rid !== rid) {
              emit();
              rid = row.rid;
              latest = new Map();
            }
            latest.delete(TIMESTAMP_KEY); // keep it last, after the keys it dates
            for (const [k, v] of itemsOf(row.pairs)) latest.set(k, v);
            latest.set(TIMESTAMP_KEY, secondsOf(row.at));
          }
          return true;
        },
      );
      emit();
      return reply.join();
    });
  },
};

export const recordCommands: CommandSpec[] = [store, restore, currentdump];
