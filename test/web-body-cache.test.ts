import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { BodyCache } from '../lib/web/body-cache';
import type { FileFacts } from '../lib/web/fs-cache';

t.test('a full body cache drops the entries not read since the last pass, oldest first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lc-bodies-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const facts = new Map<string, FileFacts>();
  for (const name of ['a', 'b', 'c', 'd', 'e']) {
    const path = join(dir, name);
    writeFileSync(path, name.repeat(1000));
    const s = statSync(path);
    facts.set(name, { kind: 'file', size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
  }
  const bodies = new BodyCache(3000);
  // A hit is answered at once (a Buffer); a miss is read from disk (a promise), then kept.
  const get = (name: string) => bodies.get(join(dir, name), facts.get(name)!);
  const isHit = (name: string) => Buffer.isBuffer(get(name));
  for (const name of ['a', 'b', 'c']) t.equal((await get(name))!.toString(), name.repeat(1000), `${name} read from disk`);
  t.ok(isHit('a'), 'a is read again: it has a second chance');
  t.equal((await get('d'))!.toString(), 'd'.repeat(1000));
  // Full: a was read since it came in, so b, the oldest unread, made room for d (a moved behind d).
  t.equal((await get('b'))!.toString(), 'b'.repeat(1000), 'b was dropped: read from disk again');
  // Reading b back made room again: c, the oldest, unread, went; a (its mark cleared) and d stay.
  t.ok(isHit('d'), 'd stays');
  t.ok(isHit('b'), 'b is back');
  const c = get('c');
  t.notOk(Buffer.isBuffer(c), 'c went');
  await c;
});
