import t from 'tap';
import { escape } from '../lib/client/escape';
import { transientReply } from '../lib/errors';
import { makeFixture } from './helpers/commands-fixture';

t.test('put then get answers values in the order asked, missing ones empty', async (t) => {
  const { call } = makeFixture(t);
  t.equal(await call('put:msu:alice:environment:firstname=Alice&lastname=Smith'), 'ok');
  t.equal(await call('get:msu:alice:environment:lastname&nothing&firstname'), 'Smith&&Alice');
  t.equal(await call('get:msu:alice:environment:'), '');
  t.equal(await call('get:msu:bob:environment:firstname'), '');
  t.equal(await call('eget:msu:alice:environment:firstname'), 'Alice');
});

t.test('put overwrites and the history keeps every change', async (t) => {
  const { call, store } = makeFixture(t);
  t.equal(await call('put:msu:alice:prefs:colour=red'), 'ok');
  t.equal(await call('put:msu:alice:prefs:colour=blue'), 'ok');
  t.equal(await call('get:msu:alice:prefs:colour'), 'blue');
  const history = store.db
    .prepare("SELECT op, by_host, payload FROM history WHERE domain = 'msu' AND name = 'alice' ORDER BY id")
    .all();
  t.same(history, [
    { op: 'P', by_host: 'acc1', payload: 'colour=red' },
    { op: 'P', by_host: 'acc1', payload: 'colour=blue' },
  ]);
});

t.test('in a batch, a put that fails leaves nothing: one pair alone (one statement), several undone together', async (t) => {
  const { batch, store } = makeFixture(t);
  // The statement writing the key "boom" fails, as a full disk would: SQLite undoes that statement.
  store.db.exec("CREATE TEMP TRIGGER boom BEFORE INSERT ON main.kv WHEN NEW.key = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
  const replies = await batch([
    'put:msu:alice:ns:a=1',
    'put:msu:alice:ns:boom=2', // one pair: runs without a savepoint of its own
    'put:msu:alice:ns:b=3&boom=4', // b is written, then boom fails: its savepoint takes b back too
    'put:msu:alice:ns:c=5',
  ]);
  t.same(replies, ['ok', transientReply('internal error'), transientReply('internal error'), 'ok']);
  t.same(store.db.prepare("SELECT key, value FROM kv WHERE ns = 'ns' ORDER BY key").raw().all(), [['a', '1'], ['c', '5']]);
  t.same(store.db.prepare('SELECT payload FROM history ORDER BY id').pluck().all(), ['a=1', 'c=5'], 'history rows of the kept puts only');
  // The failed puts' usage charges went with them: the same as a store that only ever had a and c.
  const clean = makeFixture(t);
  await clean.batch(['put:msu:alice:ns:a=1', 'put:msu:alice:ns:c=5']);
  const alice = { domain: 'msu', name: 'alice' };
  t.equal(store.usage.bytes(alice), clean.store.usage.bytes(alice));
  t.ok(store.usage.bytes(alice) > 0);
});

t.test('a batch SQLite rolls back midway (a full disk, an I/O error) fails whole: nothing after it commits on its own', async (t) => {
  const { batch, store } = makeFixture(t);
  // The statement writing the key "boom" makes SQLite roll the whole transaction back, as it may on SQLITE_FULL.
  store.db.exec("CREATE TEMP TRIGGER boom BEFORE INSERT ON main.kv WHEN NEW.key = 'boom' BEGIN SELECT RAISE(ROLLBACK, 'boom'); END");
  const replies = await batch(['put:msu:alice:ns:a=1', 'put:msu:alice:ns:boom=2', 'put:msu:alice:ns:c=3', 'log:msu:alice:hello']);
  t.same(replies, Array(4).fill(transientReply('store commit failed')), 'every request of the batch may be sent again');
  t.same(store.db.prepare('SELECT count(*) FROM kv').pluck().get(), 0, 'neither the put before nor the put after');
  t.same(store.db.prepare('SELECT count(*) FROM history').pluck().get(), 0, 'no history row of a put that is not there');
  t.same(store.db.prepare('SELECT count(*) FROM activity').pluck().get(), 0);
  t.equal(store.usage.bytes({ domain: 'msu', name: 'alice' }), 0);
  // The store goes on: the next batch commits as usual.
  t.same(await batch(['put:msu:alice:ns:d=4']), ['ok']);
  t.same(store.db.prepare('SELECT key, value FROM kv').raw().all(), [['d', '4']]);
});

t.test('nohist_ namespaces keep no history', async (t) => {
  const { call, store } = makeFixture(t);
  t.equal(await call('put:msu:alice:nohist_cache:a=1'), 'ok');
  t.equal(store.db.prepare('SELECT count(*) FROM history').pluck().get(), 0);
});

t.test('escaped keys and values round-trip, stored in canonical form', async (t) => {
  const { call } = makeFixture(t);
  const key = 'a:b&c=d ü/ok';
  const value = 'line one\nline two: 100% & more';
  t.equal(await call(`put:msu:alice:notes:${escape(key)}=${escape(value)}`), 'ok');
  t.equal(await call(`get:msu:alice:notes:${escape(key)}`), escape(value));
  // classic lonnet wrote lowercase hex and left some characters raw: same key
  t.equal(await call('put:msu:alice:notes:x.y=%2a'), 'ok');
  t.equal(await call('get:msu:alice:notes:x%2ey'), '%2A');
  t.equal(await call('get:msu:alice:notes:x%2Ey'), '%2A');
  t.equal(await call('get:msu:alice:notes:%78%2Ey'), '%2A', 'an escaped word character is that character');
});

t.test('inc adds 1 or n, starting from 0, and keeps non-numbers at 0', async (t) => {
  const { call } = makeFixture(t);
  t.equal(await call('inc:msu:alice:counts:a&b=5&c=%2D2'), 'ok');
  t.equal(await call('inc:msu:alice:counts:a=&b=2%2E5'), 'ok');
  t.equal(await call('get:msu:alice:counts:a&b&c'), '2&7%2E5&%2D2');
  t.equal(await call('put:msu:alice:counts:d=abc'), 'ok');
  t.equal(await call('inc:msu:alice:counts:d'), 'ok');
  t.equal(await call('get:msu:alice:counts:d'), '1');
  t.equal(await call('inc:msu:alice:counts:a=two'), 'error:increment is not a number');
  t.equal(await call('get:msu:alice:counts:a'), '2');
});

t.test('a critical inc replayed with the same msgid is applied once', async (t) => {
  const { call } = makeFixture(t);
  t.equal(await call('inc:msu:alice:counts:n', { msgid: 'm1' }), 'ok');
  t.equal(await call('inc:msu:alice:counts:n', { msgid: 'm1' }), 'ok');
  t.equal(await call('inc:msu:alice:counts:n', { msgid: 'm2' }), 'ok');
  t.equal(await call('get:msu:alice:counts:n'), '2');
});

t.test('log appends to the activity log with the calling host', async (t) => {
  const { call, store } = makeFixture(t, { now: () => 1_700_000_000_000 });
  t.equal(await call('log:msu:alice:Logged in: from 1.2.3.4', { caller: 'acc7' }), 'ok');
  t.same(store.db.prepare('SELECT domain, name, at, by_host, text FROM activity').all(), [
    { domain: 'msu', name: 'alice', at: 1_700_000_000_000, by_host: 'acc7', text: 'Logged in: from 1.2.3.4' },
  ]);
  t.equal(await call('log:msu:alice:'), 'ok', 'an empty entry is still an entry');
  t.equal(await call('log:msu:alice:' + 'x'.repeat(64 * 1024 + 1)), 'error:text longer than 65536 characters');
});

t.test('newput writes only new keys, all or nothing', async (t) => {
  const { call } = makeFixture(t);
  t.equal(await call('newput:msu:alice:ns:a=1&b=2'), 'ok');
  t.equal(await call('newput:msu:alice:ns:c=3&b=9'), 'key_exists: b');
  t.equal(await call('get:msu:alice:ns:a&b&c'), '1&2&');
});

t.test('del removes keys and records the deletion', async (t) => {
  const { call, store } = makeFixture(t);
  t.equal(await call('put:msu:alice:ns:a=1&b=2&c=3'), 'ok');
  t.equal(await call('del:msu:alice:ns:a&c&missing'), 'ok');
  t.equal(await call('get:msu:alice:ns:a&b&c'), '&2&');
  t.equal(store.db.prepare("SELECT payload FROM history WHERE op = 'D'").pluck().get(), 'a&c&missing');
});

t.test('the roles namespace is refused to the plain write commands', async (t) => {
  const { call } = makeFixture(t);
  for (const line of [
    'put:msu:alice:roles:x=1',
    'newput:msu:alice:roles:x=1',
    'del:msu:alice:roles:x',
    'inc:msu:alice:roles:x',
    'store:msu:alice:roles:r1:x=1',
  ]) {
    t.equal(await call(line), 'refused', line);
  }
  t.equal(await call('dump:msu:alice:roles'), '', 'nothing was written');
});

t.test('malformed arguments answer error: and change nothing', async (t) => {
  const { call, store } = makeFixture(t);
  const cases: Array<[string, string]> = [
    ['put:msu:alice:ns', 'error:put needs 4 arguments'],
    ['put:msu:alice:ns:a=1:b=2', 'error:unescaped character in value'],
    ['put:msu:alice:ns:a:b=2', 'error:unescaped character in key'],
    ['put:msu:alice:ns:a=1=2', 'error:unescaped character in value'],
    ['put:msu:alice:ns:a', 'error:expected key=value'],
    ['put:msu:alice:ns:', 'error:no key=value pairs'],
    ['put:msu:alice:ns:=1', 'error:empty key'],
    ['put:msu:alice:ns:a=1&&b=2', 'error:expected key=value'],
    ['put:msu:alice:ns:a%2=1', 'error:bad escape in key'],
    ['put:msu:alice:ns:a=%zz', 'error:bad escape in value'],
    ['put:msu:../etc:ns:a=1', 'error:bad user name'],
    ['put:msu:al/ice:ns:a=1', 'error:bad user name'],
    ['put:m su:alice:ns:a=1', 'error:bad domain'],
    ['put:msu:alice:name.space:a=1', 'error:bad namespace'],
    ['put:msu:alice:../x:a=1', 'error:bad namespace'],
    ['put:msu:alice::a=1', 'error:bad namespace'],
    ['get:msu:alice:ns:a&&b', 'error:empty key'],
    ['get:msu:alice:ns:a:b', 'error:unescaped character in key'],
    ['inc:msu:alice:ns:', 'error:no keys to increment'],
    ['log:msu:alice:tab\there', 'error:control character in text'],
    ['nosuch:msu:alice', 'unknown_cmd'],
  ];
  for (const [line, reply] of cases) t.equal(await call(line), reply, line);
  t.equal(store.db.prepare('SELECT count(*) FROM kv').pluck().get(), 0);
  t.equal(store.db.prepare('SELECT count(*) FROM history').pluck().get(), 0);
  t.equal(store.db.prepare('SELECT count(*) FROM activity').pluck().get(), 0);
});

t.test('oversize keys and values are refused with a clear error', async (t) => {
  const { call, store } = makeFixture(t);
  t.equal(await call(`put:msu:alice:ns:${'k'.repeat(4097)}=1`), 'error:key longer than 4096 characters');
  t.equal(await call(`put:msu:alice:ns:k=${'v'.repeat(1024 * 1024 + 1)}`), 'error:value longer than 1048576 characters');
  t.equal(await call(`put:msu:alice:ns:k=${'v'.repeat(1024 * 1024)}`), 'ok', 'the limit itself is fine');
  t.equal(store.db.prepare('SELECT count(*) FROM kv').pluck().get(), 1);
});

t.test('a failed write in a multi-pair put leaves nothing behind', async (t) => {
  const { call } = makeFixture(t);
  t.equal(await call('put:msu:alice:ns:a=1&b=%G0'), 'error:bad escape in value');
  t.equal(await call('get:msu:alice:ns:a'), '');
});
