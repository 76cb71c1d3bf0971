/**
 * Reading whole namespaces:
 *
 *   keys:<dom>:<user>:<ns>                         → k&k…
 *   dump:<dom>:<user>:<ns>[:<regexp>[:<range>]]    → k=v&k=v…
 *
 * Keys come in key order (of their escaped form). The regexp (escaped, as
 * classic lonnet sent it) is matched against the unescaped key; the range
 * `a-b` keeps matching pairs number a (inclusive) to b (exclusive), counted
 * from 0, and `b` means `0-b`. Large namespaces are read in pages with the
 * event loop free in between; see bounded-reply.ts for the size limit, and
 * key-pattern.ts for why no pattern can stall the daemon.
 */
import { unescape } from '../client/escape';
import { badArgs } from '../errors';
import { checkNamespace, type Pair } from '../store';
import { BoundedReply, buildInTurn, PAGE_ROWS, forEachPage } from './bounded-reply';
import { keyMatcher } from './key-pattern';
import { userOf } from './fields';
import type { CommandSpec } from './table';

interface Range {
  readonly start: number;
  readonly end: number;
}

const EVERYTHING: Range = { start: 0, end: Infinity };
const RANGE_RE = /^(?:(\d{1,15})-)?(\d{1,15})$/;

function rangeOf(field: string | undefined): Range {
  if (field === undefined || field === '') return EVERYTHING;
  const m = RANGE_RE.exec(field);
  if (!m) throw badArgs('bad range (expected <end> or <start>-<end>)');
  return { start: Number(m[1] ?? 0), end: Number(m[2]) };
}

const keys: CommandSpec = {
  name: 'keys',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 3, max: 3 },
  run(ctx, [dom, user, ns]) {
    const who = userOf(dom, user);
    const space = checkNamespace(ns);
    return buildInTurn(ctx, async () => {
      const reply = new BoundedReply('keys', ctx.services.settings.maxReplyBytes, 'use dump with a regexp or a range');
      const kv = ctx.services.store.kv;
      await forEachPage(
        '',
        (after) => kv.keysAfter(who, space, after, PAGE_ROWS),
        (key) => key,
        (page) => {
          for (const key of page) reply.add(key);
          return true;
        },
      );
      return reply.join();
    });
  },
};

const dump: CommandSpec = {
  name: 'dump',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 3, max: 5 },
  async run(ctx, [dom, user, ns, pattern, rangeField]) {
    const who = userOf(dom, user);
    const space = checkNamespace(ns);
    const matcher = pattern === undefined ? undefined : keyMatcher(unescape(pattern));
    const range = rangeOf(rangeField);
    await matcher?.ready();
    if (range.start >= range.end) return '';
    return buildInTurn(ctx, async () => {
      const reply = new BoundedReply('dump', ctx.services.settings.maxReplyBytes, 'ask for less with a regexp or a range');
      const kv = ctx.services.store.kv;
      let index = 0;
      await forEachPage(
        '',
        (after) => kv.pairsAfter(who, space, after, PAGE_ROWS),
        ([key]: Pair) => key,
        async (page) => {
          const matches = await matcher?.match(page.map(([key]) => unescape(key)));
          for (let i = 0; i < page.length; i++) {
            if (matches && !matches[i]) continue;
            if (index >= range.start) reply.add(`${page[i]![0]}=${page[i]![1]}`);
            if (++index >= range.end) return false;
          }
          return true;
        },
      );
      return reply.join();
    });
  },
};

export const dumpCommands: CommandSpec[] = [keys, dump];
