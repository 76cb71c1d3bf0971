import t from 'tap';
import { escape } from '../lib/client/escape';
import { makeFixture, type Fixture } from './helpers/commands-fixture';

function fill(f: Fixture, count: number, ns = 'big'): void {
  const pairs = Array.from({ length: count }, (_, i) => [`k${String(i).padStart(6, '0')}`, `v${i}`] as const);
  f.store.kv.put({ domain: 'msu', name: 'alice' }, ns, pairs, { byHost: 'test' });
}

t.test('keys and dump answer in key order; an empty namespace answers empty', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('put:msu:alice:ns:b=2&a=1&c=3'), 'ok');
  t.equal(await f.call('keys:msu:alice:ns'), 'a&b&c');
  t.equal(await f.call('dump:msu:alice:ns'), 'a=1&b=2&c=3');
  t.equal(await f.call('dump:msu:alice:empty'), '');
  t.equal(await f.call('keys:msu:alice:empty'), '');
});

t.test('dump matches the regexp against the unescaped key', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call(`put:msu:alice:ns:${escape('course.1.score')}=5&${escape('course.2.score')}=7&other=1`), 'ok');
  t.equal(await f.call(`dump:msu:alice:ns:${escape('^course\\.\\d\\.score$')}`), 'course%2E1%2Escore=5&course%2E2%2Escore=7');
  t.equal(await f.call(`dump:msu:alice:ns:${escape('^oth')}`), 'other=1');
  t.equal(await f.call('dump:msu:alice:ns:.'), 'course%2E1%2Escore=5&course%2E2%2Escore=7&other=1');
  t.equal(await f.call('dump:msu:alice:ns:'), 'course%2E1%2Escore=5&course%2E2%2Escore=7&other=1');
});

t.test('dump ranges count matching pairs from 0, end exclusive', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('put:msu:alice:ns:a=1&b=2&c=3&d=4&e=5'), 'ok');
  t.equal(await f.call('dump:msu:alice:ns:.:2'), 'a=1&b=2');
  t.equal(await f.call('dump:msu:alice:ns:.:1-3'), 'b=2&c=3');
  t.equal(await f.call('dump:msu:alice:ns:.:3-99'), 'd=4&e=5');
  t.equal(await f.call('dump:msu:alice:ns:.:3-3'), '');
  t.equal(await f.call(`dump:msu:alice:ns:${escape('[bde]')}:1-2`), 'd=4');
  t.equal(await f.call('dump:msu:alice:ns:.:x-2'), 'error:bad range (expected <end> or <start>-<end>)');
  t.equal(await f.call('dump:msu:alice:ns:.:1-2:3'), 'error:bad range (expected <end> or <start>-<end>)');
});

t.test('patterns that need backtracking are refused by name; any other pattern matches in linear time', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call(`put:msu:alice:ns:${'a'.repeat(40)}=1&${'a'.repeat(40)}b=2`), 'ok');
  const cases: Array<[string, string]> = [
    ['(a)\\1', 'error:regexp refused (back-reference)'],
    ['(?<n>a)\\k<n>', 'error:regexp refused (back-reference)'],
    ['(?<=a)b', 'error:regexp refused (look-behind)'],
    ['(?<!a)b', 'error:regexp refused (look-behind)'],
    ['a(?=b)', 'error:regexp refused (look-ahead)'],
    ['a(?!b)', 'error:regexp refused (look-ahead)'],
    ['[\\1(?=]x', 'error:bad regexp: invalid escape sequence: `\\1`'],
    ['a'.repeat(257), 'error:regexp longer than 256 characters'],
    ['(', 'error:bad regexp: missing closing ): `(`'],
    ['\\u0041', 'error:bad regexp: invalid escape sequence: `\\u`'],
    ['x{1001}', 'error:bad regexp: invalid repeat count: `{1001}`'],
    ['.{1000}.{1000}', 'error:regexp too large (2002 instructions, at most 1000)'],
  ];
  for (const [pattern, reply] of cases) t.equal(await f.call(`dump:msu:alice:ns:${escape(pattern)}`), reply, pattern);
  t.equal(await f.call(`dump:msu:alice:empty:${escape('(')}`), 'error:bad regexp: missing closing ): `(`', 'refused even where nothing would be matched');
  t.equal(await f.call(`dump:msu:alice:ns:${escape('(')}`), 'error:bad regexp: missing closing ): `(`', 'a refusal remembered answers the same');
  // Exponential for a backtracking engine (the 41-character key), linear here.
  for (const pattern of ['^(a|aa)*$', '(a+)+$', '^(a*)*$', '(?:a|b{2,})+$']) {
    t.equal(await f.call(`dump:msu:alice:ns:${escape(pattern)}`), `${'a'.repeat(40)}=1`, pattern);
  }
  t.equal(await f.call(`dump:msu:alice:ns:${escape('(?i)^A{40}B$')}`), `${'a'.repeat(40)}b=2`, 'RE2 flags');
});

t.test('large dumps are read in pages and leave the event loop free', async (t) => {
  const f = makeFixture(t);
  fill(f, 5000);
  let turns = 0;
  const tick = (): void => {
    turns++;
    if (!done) setImmediate(tick);
  };
  let done = false;
  setImmediate(tick);
  const reply = await f.call('dump:msu:alice:big');
  done = true;
  const items = reply.split('&');
  t.equal(items.length, 5000);
  t.equal(items[0], 'k000000=v0');
  t.equal(items[4999], 'k004999=v4999');
  t.ok(turns >= 4, `other work ran between pages (${turns} turns)`);
  t.equal((await f.call('keys:msu:alice:big')).split('&').length, 5000);
  t.equal(await f.call(`dump:msu:alice:big:${escape('^k00123')}`), Array.from({ length: 10 }, (_, i) => `k00123${i}=v123${i}`).join('&'));
  t.equal((await f.call('dump:msu:alice:big:.:1500-2500')).split('&')[0], 'k001500=v1500');
});

t.test('a dump above the reply limit is refused with a clear error', async (t) => {
  const f = makeFixture(t, { settings: { maxReplyBytes: 10_000 } });
  fill(f, 2000);
  t.equal(await f.call('dump:msu:alice:big'), 'error:dump reply larger than 10000 bytes; ask for less with a regexp or a range');
  t.equal(await f.call('keys:msu:alice:big'), 'error:keys reply larger than 10000 bytes; use dump with a regexp or a range');
  t.equal((await f.call('dump:msu:alice:big:.:100')).split('&').length, 100, 'a range gets under it');
});

t.test('malformed dump and keys arguments', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('dump:msu:alice'), 'error:dump needs 3 arguments');
  t.equal(await f.call('keys:msu:alice:ns:extra'), 'error:bad namespace');
  t.equal(await f.call('dump:msu:alice:bad/ns'), 'error:bad namespace');
});
