/**
 * Short-lived blobs:
 *
 *   tmpput:<data>   → <id>
 *   tmpget:<id>     → <data> | error:not_found  (also once expired)
 *   tmpdel:<id>     → ok     | error:not_found
 *
 * `<data>` is escaped text, usually `k=v&…`; it is kept as sent. Entries
 * live `tmpLifetimeMs` (the --tmp-lifetime-ms setting).
 */
import { isWellEscaped } from '../client/escape';
import { badArgs } from '../errors';
import type { CommandSpec } from './table';

const TMP_ID_RE = /^[0-9a-f]{32}$/;
/** Escaped text with its `&` and `=` separators: no raw `:` and no control characters. */
const TMP_DATA_FORBIDDEN_RE = /[:\x00-\x1f\x7f]/;

function tmpIdOf(text: string): string {
  if (!TMP_ID_RE.test(text)) throw badArgs('bad tmp id');
  return text;
}

const tmpput: CommandSpec = {
  name: 'tmpput',
  access: 'any',
  writes: true,
  secret: false,
  fields: { min: 1, max: 1 },
  run(ctx, [data]) {
    const maxChars = ctx.services.settings.maxValueBytes;
    if (data.length > maxChars) throw badArgs(`data longer than ${maxChars} characters`);
    if (TMP_DATA_FORBIDDEN_RE.test(data)) throw badArgs('unescaped character in data');
    if (!isWellEscaped(data)) throw badArgs('bad escape in data');
    const lifetimeMs = ctx.services.settings.tmpLifetimeMs;
    return ctx.services.store.tmp.put(data, lifetimeMs, ctx.caller);
  },
};

const tmpget: CommandSpec = {
  name: 'tmpget',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 1, max: 1 },
  run(ctx, [id]) {
    return ctx.services.store.tmp.get(tmpIdOf(id)) ?? 'error:not_found';
  },
};

const tmpdel: CommandSpec = {
  name: 'tmpdel',
  access: 'any',
  writes: true,
  secret: false,
  fields: { min: 1, max: 1 },
  run(ctx, [id]) {
    return ctx.services.store.tmp.del(tmpIdOf(id)) ? 'ok' : 'error:not_found';
  },
};

export const tmpCommands: CommandSpec[] = [tmpput, tmpget, tmpdel];
