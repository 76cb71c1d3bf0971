import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AppliedBatch } from '../lib/commands/applied-batch';
import { msgidOf } from '../lib/wire/msgid';
import { UserStore, hashPassword, verifyPassword } from '../lib/store';
import { migrate, openDatabase } from '../lib/store/sqlite';
import { USER_STORE_SCHEMA } from '../lib/store/user-schema';

const alice = { domain: 'msu', name: 'alice' };
const audit = { byHost: 'lib1' };

function open(t: { testdir(): string; teardown(fn: () => void): void }, now?: () => number): UserStore {
  const store = new UserStore(join(t.testdir(), 'data.sqlite'), { now });
  t.teardown(() => store.close());
  return store;
}

t.test('a database made by the first schema step is brought up to date, data kept', async (t) => {
  const file = join(t.testdir(), 'data.sqlite');
  const old = openDatabase(file);
  migrate(old, 'user-store', USER_STORE_SCHEMA.slice(0, 1));
  old.prepare("INSERT INTO kv VALUES ('msu', 'alice', 'ns', 'a', '1')").run();
  old.close();
  const store = new UserStore(file);
  t.teardown(() => store.close());
  t.equal(store.db.prepare("SELECT version FROM schema_versions WHERE component = 'user-store'").pluck().get(), USER_STORE_SCHEMA.length);
  t.same(store.kv.get(alice, 'ns', ['a']), ['1']);
  t.equal(statSync(file).mode & 0o777, 0o640);
  store.kv.put(alice, 'ns', [['b', '2']], { byHost: 'lib1', executor: { domain: 'msu', name: 'prof' } });
  t.equal(store.db.prepare('SELECT executor FROM history').pluck().get(), 'prof:msu');
});

t.test('kv pages follow key order without gaps or repeats', async (t) => {
  const store = open(t);
  store.kv.put(alice, 'ns', ['d', 'a', 'c', 'b', 'e'].map((k) => [k, k.toUpperCase()] as const), audit);
  store.kv.put({ domain: 'msu', name: 'bob' }, 'ns', [['zz', '1']], audit);
  store.kv.put(alice, 'other', [['zz', '1']], audit);
  t.same(store.kv.keysAfter(alice, 'ns', '', 2), ['a', 'b']);
  t.same(store.kv.keysAfter(alice, 'ns', 'b', 2), ['c', 'd']);
  t.same(store.kv.keysAfter(alice, 'ns', 'd', 2), ['e']);
  t.same(store.kv.pairsAfter(alice, 'ns', 'c', 10), [['d', 'D'], ['e', 'E']]);
});

t.test('history and activity carry the injected clock', async (t) => {
  let now = 1000;
  const store = open(t, () => now);
  store.kv.inc(alice, 'counts', [['n', 2]], audit);
  now = 2000;
  store.activity.append(alice, 'acc1', 'hello');
  t.same(store.db.prepare('SELECT at, op, payload FROM history').all(), [{ at: 1000, op: 'I', payload: 'n=2' }]);
  t.equal(store.db.prepare('SELECT at FROM activity').pluck().get(), 2000);
});

t.test('record versions are numbered per record and paged in (rid, version) order', async (t) => {
  const store = open(t, () => 5000);
  t.equal(store.records.store(alice, 'c', 'r2', [['a', '1']], audit), 1);
  t.equal(store.records.store(alice, 'c', 'r1', [['a', '1']], audit), 1);
  t.equal(store.records.store(alice, 'c', 'r2', [['a', '2']], audit), 2);
  t.same([...store.records.versions(alice, 'c', 'r2')], [
    { version: 1, at: 5000, pairs: 'a=1' },
    { version: 2, at: 5000, pairs: 'a=2' },
  ]);
  const page = store.records.rowsAfter(alice, 'c', { rid: 'r1', version: 1 }, 10);
  t.same(page.map((r) => `${r.rid}/${r.version}`), ['r2/1', 'r2/2']);
  t.equal(store.db.prepare("SELECT payload FROM history WHERE op = 'S' ORDER BY id").pluck().get(), 'r2:a=1');
});

t.test('the users table answers existence and swaps auth records only when unchanged', async (t) => {
  const store = open(t, () => 42);
  t.equal(store.users.exists(alice), false);
  t.equal(store.users.create(alice, { type: 'none', arg: '' }), true);
  t.equal(store.users.create(alice, { type: 'krb5', arg: 'X' }), false);
  t.same(store.users.auth(alice), { type: 'none', arg: '' });
  t.equal(store.users.replaceAuth(alice, { type: 'krb5', arg: 'X' }, { type: 'unix', arg: '' }), false);
  t.equal(store.users.replaceAuth(alice, { type: 'none', arg: '' }, { type: 'unix', arg: '' }), true);
  t.equal(store.users.setAuth({ domain: 'msu', name: 'nobody' }, { type: 'unix', arg: '' }), false);
  t.equal(store.db.prepare('SELECT created_at FROM users').pluck().get(), 42);
});

t.test('tmp entries expire and are purged a bounded batch at a time', async (t) => {
  let now = 0;
  const store = open(t, () => now);
  const ids = Array.from({ length: 40 }, () => store.tmp.put('x', 10, 'acc1'));
  t.equal(store.tmp.get(ids[0]!), 'x');
  now = 10;
  t.equal(store.tmp.get(ids[0]!), undefined);
  store.tmp.put('y', 10, 'acc1');
  t.equal(store.db.prepare('SELECT count(*) FROM tmp').pluck().get(), 40 - 16 + 1);
});

t.test('applied ids: recorded per sender, answered, pruned', async (t) => {
  const store = open(t);
  store.transaction(() => store.applied.record('lib1', 'm1', 'ok'));
  t.equal(store.applied.reply('lib1', 'm1'), 'ok');
  t.equal(store.applied.reply('lib2', 'm1'), undefined, 'another sender may use the same id');
  t.equal(store.applied.reply('lib1', 'm2'), undefined);
  store.transaction(() => store.applied.record('lib2', 'm1', 'other'));
  t.equal(store.applied.reply('lib2', 'm1'), 'other');
  t.equal(store.applied.reply('lib1', 'm1'), 'ok');
  t.equal(store.applied.prune(Date.now() + 1), 2);
});

t.test('applied ids of a batch: looked up and recorded at once, past one statement of ids', async (t) => {
  const store = open(t);
  const id = (i: number) => `run.${String(i).padStart(11, '0')}`;
  // 150 ids: three statements of at most 64 each way.
  store.transaction(() => store.applied.recordMany(Array.from({ length: 150 }, (_, i) => ['lib1', id(i), `r${i}`] as const)));
  const asked = [id(149), id(0), id(200), id(64), id(63), id(65)];
  t.same([...store.applied.replies('lib1', asked)].sort(), [[id(0), 'r0'], [id(149), 'r149'], [id(63), 'r63'], [id(64), 'r64'], [id(65), 'r65']].sort());
  t.same(store.applied.replies('lib2', asked), new Map(), "another sender's ids are its own");
  t.equal(store.db.prepare('SELECT count(*) FROM applied').pluck().get(), 150);

  const batch = new AppliedBatch(store.applied, [['lib1', id(5)], ['lib1', id(300)], ['lib2', id(5)], ['lib1', id(300)]]);
  t.equal(batch.reply('lib1', id(5)), 'r5', 'applied before the batch');
  t.equal(batch.reply('lib1', id(300)), undefined);
  batch.record('lib1', id(300), 'ok');
  t.equal(batch.reply('lib1', id(300)), 'ok', 'the second copy in the same batch finds the first');
  batch.record('lib1', id(300), 'again');
  batch.record('lib2', id(5), 'theirs');
  t.equal(store.applied.reply('lib1', id(300)), undefined, 'nothing written before the flush');
  store.transaction(() => batch.flush());
  t.equal(store.applied.reply('lib1', id(300)), 'ok', 'recorded once, with the first reply');
  t.equal(store.applied.reply('lib2', id(5)), 'theirs');
});

t.test('applied ids in runs: consecutive ids with one reply are one row, and every id of a run answers', async (t) => {
  const store = open(t);
  const run = '0123456789abcdef';
  const other = 'fedcba9876543210';
  const id = (n: number, r = run) => msgidOf(r, n);
  const rows: Array<readonly [string, string, string]> = [];
  for (let n = 10; n < 60; n++) rows.push(['lib1', id(n), n === 30 ? 'refused' : 'ok']); // 10–29 ok, 30 refused, 31–59 ok
  rows.push(['lib2', id(60), 'ok'], ['lib1', id(61), 'ok'], ['lib1', id(62), 'ok']); // another sender breaks the run
  rows.push(['lib1', id(70), 'ok'], ['lib1', id(0, other), 'ok'], ['lib1', id(1, other), 'ok']); // a gap; another run
  rows.push(['lib1', 'not-one-of-ours', 'ok'], ['lib1', id(80).toUpperCase(), 'ok'], ['lib1', id(81), 'ok']);
  store.transaction(() => store.applied.recordMany(rows));

  t.same(
    store.db.prepare('SELECT sender, run, first, last, reply FROM applied_runs ORDER BY run, first').all(),
    [
      { sender: 'lib1', run, first: 10, last: 29, reply: 'ok' },
      { sender: 'lib1', run, first: 31, last: 59, reply: 'ok' },
      { sender: 'lib1', run, first: 61, last: 62, reply: 'ok' },
      { sender: 'lib1', run: other, first: 0, last: 1, reply: 'ok' },
    ],
    'runs of two or more; a different reply, sender or a gap ends one',
  );
  t.same(
    store.db.prepare('SELECT sender, msgid, reply FROM applied ORDER BY sender, msgid').all(),
    [
      { sender: 'lib1', msgid: id(80).toUpperCase(), reply: 'ok' },
      { sender: 'lib1', msgid: id(30), reply: 'refused' },
      { sender: 'lib1', msgid: id(70), reply: 'ok' },
      { sender: 'lib1', msgid: id(81), reply: 'ok' },
      { sender: 'lib1', msgid: 'not-one-of-ours', reply: 'ok' },
      { sender: 'lib2', msgid: id(60), reply: 'ok' },
    ],
    'the rest one row each (an id spelled otherwise is another id)',
  );

  const recorded = new Map(rows.filter(([s]) => s === 'lib1').map(([, m, r]) => [m, r]));
  const asked = [...Array.from({ length: 90 }, (_, n) => id(n)), id(0, other), id(1, other), id(2, other), 'not-one-of-ours', 'nor-this'];
  const expected = new Map(asked.filter((m) => recorded.has(m)).map((m) => [m, recorded.get(m)!]));
  t.same(store.applied.replies('lib1', asked), expected, 'a batch lookup finds every recorded id and nothing else');
  t.same(store.applied.replies('lib1', [id(45), id(20)]), new Map([[id(45), 'ok'], [id(20), 'ok']]), 'a span inside runs');
  for (const m of asked) t.equal(store.applied.reply('lib1', m), recorded.get(m), `one lookup of ${m}`);
  t.same(store.applied.replies('lib2', [id(60), id(61), id(62)]), new Map([[id(60), 'ok']]), "another sender's runs are its own");
  t.equal(store.applied.reply('lib2', id(20)), undefined);
  t.equal(store.applied.reply('lib1', id(80)), undefined, 'the canonical spelling of an id recorded in upper case is not it');

  const batch = new AppliedBatch(store.applied, [['lib1', id(20)], ['lib1', id(63)]]);
  t.equal(batch.reply('lib1', id(20)), 'ok', 'a batch finds an id inside a run');
  t.equal(batch.reply('lib1', id(63)), undefined);

  t.equal(store.applied.prune(Date.now() + 1), 10, 'runs are pruned with the rows');
  t.equal(store.applied.reply('lib1', id(20)), undefined);
});

t.test('applied ids recorded before they were scoped by sender still answer', async (t) => {
  const file = join(t.testdir(), 'data.sqlite');
  const old = openDatabase(file);
  migrate(old, 'user-store', USER_STORE_SCHEMA.slice(0, 2));
  old.prepare("INSERT INTO applied (msgid, reply, at) VALUES ('old1', 'ok', 5)").run();
  old.close();
  const store = new UserStore(file);
  t.teardown(() => store.close());
  t.equal(store.applied.reply('lib1', 'old1'), 'ok', 'a replay of a message spooled before the upgrade changes nothing');
  t.same(store.db.prepare('SELECT sender, msgid, reply, at FROM applied').all(), [{ sender: '*', msgid: 'old1', reply: 'ok', at: 5 }]);
  t.equal(store.applied.prune(6), 1, 'and ages out like the rest');
});

t.test('password hashes carry their parameters and verify', async (t) => {
  const stored = await hashPassword('secret');
  t.match(stored, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  t.equal(await verifyPassword('secret', stored), true);
  t.equal(await verifyPassword(Buffer.from('secret'), stored), true);
  t.equal(await verifyPassword('Secret', stored), false);
  t.equal(await verifyPassword('secret', undefined), false, 'unknown users never match');
  await t.rejects(verifyPassword('secret', 'plain'), { message: 'stored password hash is damaged' });
  const huge = stored.replace('ln=15', 'ln=30');
  await t.rejects(verifyPassword('secret', huge), { message: 'stored password hash has unsupported parameters' });
});
