/**
 * Per-user usage and quota in the store (lib/store/usage-table.ts): the
 * counter each write keeps equals a full recount of what is stored, a write
 * past the quota is refused before anything is written, and the schema step
 * counts existing data once.
 */
import { join } from 'node:path';
import t from 'tap';
import { UserStore } from '../lib/store';
import { migrate, openDatabase, type Db } from '../lib/store/sqlite';
import { USER_STORE_SCHEMA } from '../lib/store/user-schema';

const alice = { domain: 'msu', name: 'alice' };
const bob = { domain: 'msu', name: 'bob' };
const audit = { byHost: 'lib1' };

/** What the usage of every user is by definition: a full scan (never done on the write path). */
function recount(db: Db): Array<{ domain: string; name: string; bytes: number }> {
  return db
    .prepare(
      `SELECT domain, name, sum(bytes) AS bytes FROM (
         SELECT domain, name, length(key) + length(value) AS bytes FROM kv
         UNION ALL SELECT domain, name, length(rid) + length(pairs) FROM records
         UNION ALL SELECT domain, name, length(payload) FROM history WHERE name <> ''
         UNION ALL SELECT domain, name, length(CAST(text AS BLOB)) FROM activity)
       GROUP BY domain, name ORDER BY domain, name`,
    )
    .all() as Array<{ domain: string; name: string; bytes: number }>;
}

function counters(db: Db): Array<{ domain: string; name: string; bytes: number }> {
  return db.prepare('SELECT domain, name, bytes FROM usage WHERE bytes <> 0 ORDER BY domain, name').all() as Array<{
    domain: string;
    name: string;
    bytes: number;
  }>;
}

function open(t: { testdir(): string; teardown(fn: () => void): void }, quotaBytes = 0): UserStore {
  const store = new UserStore(join(t.testdir(), 'data.sqlite'), { quotaBytes: () => quotaBytes });
  t.teardown(() => store.close());
  return store;
}

t.test('every write keeps the counter equal to a recount', async (t) => {
  const store = open(t);
  store.kv.put(alice, 'ns', [['a', '1']], audit);
  t.equal(store.usage.bytes(alice), 2 + 3, 'a=1, and its history a=1');
  store.kv.put(alice, 'ns', [['a', '22'], ['b', '3'], ['b', '44']], audit);
  t.equal(store.usage.bytes(alice), 5 + 1 + 3 + 'a=22&b=3&b=44'.length, 'a grew by 1, b counts once (b=44), the history has the whole list');
  store.kv.put(alice, 'nohist_cache', [['k', 'v']], audit);
  store.kv.del(alice, 'ns', ['a', 'zz'], audit);
  store.kv.inc(alice, 'counts', [['n', 5], ['n', 7], ['m', -1]], audit);
  t.same(store.kv.get(alice, 'counts', ['n', 'm']), ['12', '%2D1'], 'a key twice in one inc adds twice');
  store.kv.inc(alice, 'counts', [['n', 100]], audit);
  t.equal(store.kv.newPut(alice, 'ns', [['b', 'x']], audit), 'b');
  t.equal(store.kv.newPut(alice, 'ns', [['c', 'x']], audit), undefined);
  store.records.store(alice, 'c101', 'r1', [['x', '1']], audit);
  store.records.store(alice, 'nohist_c', 'r1', [['x', '1']], audit);
  store.activity.append(alice, 'acc1', 'héllo: ü');
  store.kv.put(bob, 'roles', [['r', 'st']], audit, 'count');
  store.ids.put('msu', [['A1', 'alice']], audit);
  t.same(counters(store.db), recount(store.db));
  t.same(recount(store.db).map((r) => r.name), ['alice', 'bob'], 'the domain id map belongs to nobody');
});

t.test('past the quota a write is refused before anything is written; deleting makes room', async (t) => {
  const store = open(t, 40);
  store.kv.put(alice, 'ns', [['a', 'x'.repeat(10)]], audit);
  t.equal(store.usage.bytes(alice), 11 + 12, 'the pair and its history');
  const rows = () => store.db.prepare('SELECT (SELECT count(*) FROM kv) AS kv, (SELECT count(*) FROM history) AS history, (SELECT count(*) FROM records) AS records, (SELECT count(*) FROM activity) AS activity').get();
  const before = rows();
  const refused = 'storage quota exceeded: alice in msu stores 23 of 40 bytes; this write needs';
  t.throws(() => store.kv.put(alice, 'ns', [['b', 'y'.repeat(10)]], audit), { code: 'LC_ERR_BAD_ARGS', message: `${refused} 23 more` });
  t.throws(() => store.kv.inc(alice, 'ns', [['c', 1234567890123]], audit), { message: `${refused} 29 more` });
  t.throws(() => store.records.store(alice, 'ns', 'r', [['k', 'vvvvvv']], audit), { message: `${refused} 19 more` });
  t.throws(() => store.activity.append(alice, 'acc1', 'x'.repeat(18)), { message: `${refused} 18 more` });
  t.same(rows(), before, 'nothing written');
  t.equal(store.usage.bytes(alice), 23, 'nothing charged');
  store.activity.append(alice, 'acc1', 'x'.repeat(17));
  t.equal(store.usage.bytes(alice), 40, 'up to the quota itself is fine');
  store.kv.put(bob, 'ns', [['b', 'y'.repeat(10)]], audit);
  t.equal(store.usage.bytes(bob), 23, 'another user is not affected');
  store.kv.put(alice, 'roles', [['r', 'st_0_0']], audit, 'count');
  t.equal(store.usage.bytes(alice), 40 + 7 + 8, 'a role grant is counted, never refused');
  store.kv.del(alice, 'ns', ['a'], audit);
  t.equal(store.usage.bytes(alice), 55 - 11 + 1, 'deleting frees the value; the history keeps the key');
  t.throws(() => store.kv.put(alice, 'ns', [['b', 'y']], audit), { message: 'storage quota exceeded: alice in msu stores 45 of 40 bytes; this write needs 5 more' });
  store.kv.del(alice, 'nohist_none', ['zz'], audit);
  store.kv.del(alice, 'roles', ['r'], audit);
  t.equal(store.usage.bytes(alice), 45 - 7 + 1, 'role removal freed its pair');
  store.kv.put(alice, 'nohist_ns', [['b', '']], audit);
  t.equal(store.usage.bytes(alice), 40, 'room again for a small write');
  t.same(counters(store.db), recount(store.db));
});

t.test('in a batch, charges are summed in memory: the quota sees them, a rolled-back savepoint takes its own back', async (t) => {
  const store = open(t, 40);
  store.kv.put(alice, 'ns', [['a', 'x'.repeat(10)]], audit); // 23 bytes, written at once (no batch)
  const { result, durable } = store.transactionSyncedLater(() => {
    store.transaction(() => store.activity.append(alice, 'acc1', 'x'.repeat(5)));
    const during = store.usage.bytes(alice);
    // A command whose write is charged, then fails: its savepoint rolls back, and its charge with it.
    t.throws(() =>
      store.transaction(() => {
        store.activity.append(alice, 'acc1', 'y'.repeat(6));
        throw new Error('the command failed after writing');
      }),
    );
    const afterUndo = store.usage.bytes(alice);
    // The quota counts the batch's own earlier charges (23 + 5 stored, 12 fit, 13 do not).
    t.throws(() => store.transaction(() => store.activity.append(alice, 'acc1', 'z'.repeat(13))), {
      message: 'storage quota exceeded: alice in msu stores 28 of 40 bytes; this write needs 13 more',
    });
    store.transaction(() => store.activity.append(alice, 'acc1', 'z'.repeat(12)));
    store.transaction(() => store.activity.append(bob, 'acc1', 'b'));
    return { during, afterUndo };
  });
  await durable;
  t.same(result, { during: 28, afterUndo: 28 });
  t.equal(store.usage.bytes(alice), 40, 'the batch charged what it kept');
  t.same(
    store.db.prepare('SELECT text FROM activity ORDER BY id').pluck().all(),
    ['xxxxx', 'z'.repeat(12), 'b'],
    'the rolled-back and the refused appends left no row',
  );
  t.same(counters(store.db), recount(store.db));

  // A batch that fails as a whole (its transaction rolls back) leaves the counter as it was.
  t.throws(() =>
    store.transactionSyncedLater(() => {
      store.transaction(() => store.activity.append(bob, 'acc1', 'lost'));
      throw new Error('the batch failed');
    }),
  );
  t.equal(store.usage.bytes(bob), 1);
  t.same(counters(store.db), recount(store.db));
});

t.test('held writes: a batch writes its activity lines and history rows in order at its end; a failed held write drops its line and charge without a savepoint', async (t) => {
  const store = open(t, 1000);
  const lines = (): string[] => store.db.prepare('SELECT text FROM activity ORDER BY id').pluck().all() as string[];
  const { durable } = store.transactionSyncedLater(() => {
    for (let i = 0; i < 150; i++) store.heldWrite(() => store.activity.append(alice, 'acc1', `a${i}`)); // past one statement of 64
    t.same(lines(), [], 'held in memory while the batch runs');
    t.throws(() =>
      store.heldWrite(() => {
        store.activity.append(alice, 'acc1', 'dropped');
        throw new Error('the command failed after its line');
      }),
    );
    // A savepointed write between held ones: its kv row and the lines keep their places; its
    // history row is held too, and a rolled-back one's is dropped with its savepoint.
    store.transaction(() => store.kv.put(alice, 'ns', [['k', 'v']], audit));
    t.throws(() =>
      store.transaction(() => {
        store.kv.put(alice, 'ns', [['k2', 'lost']], audit);
        throw new Error('failed after its put');
      }),
    );
    store.transaction(() => store.kv.put(alice, 'ns', [['k3', 'w']], audit));
    t.same(store.db.prepare('SELECT count(*) FROM history').pluck().get(), 0, 'history rows held while the batch runs');
    store.heldWrite(() => store.activity.append(bob, 'acc1', 'last'));
    t.throws(() => store.heldWrite(() => store.activity.append(bob, 'acc1', 'x'.repeat(1000))), { message: /storage quota exceeded/ });
  });
  await durable;
  t.same(lines(), [...Array.from({ length: 150 }, (_, i) => `a${i}`), 'last'], 'in order, without the failed and the refused ones');
  t.same(counters(store.db), recount(store.db), 'their charges dropped with them');
  t.equal(store.db.prepare("SELECT count(*) FROM kv WHERE name = 'alice'").pluck().get(), 2);
  t.same(store.db.prepare('SELECT payload FROM history ORDER BY id').pluck().all(), ['k=v', 'k3=w'], "the kept puts' history, in order");

  // Outside a batch a held write is an ordinary transaction.
  t.throws(() =>
    store.heldWrite(() => {
      store.activity.append(bob, 'acc1', 'rolled back');
      throw new Error('failed');
    }),
  );
  store.heldWrite(() => store.activity.append(bob, 'acc1', 'alone'));
  t.same(lines().slice(-2), ['last', 'alone']);
  t.same(counters(store.db), recount(store.db));
});

t.test('the schema step counts the data already stored', async (t) => {
  const file = join(t.testdir(), 'data.sqlite');
  const old = openDatabase(file);
  migrate(old, 'user-store', USER_STORE_SCHEMA.slice(0, 2));
  old.exec(`
    INSERT INTO kv VALUES ('msu', 'alice', 'ns', 'a', '1'), ('msu', 'alice', 'ns', 'bb', '22'), ('msu', 'bob', 'x', 'k', 'v');
    INSERT INTO records (domain, name, ns, rid, version, at, by_host, pairs) VALUES ('msu', 'alice', 'c', 'r', 1, 0, 'h', 'x=1');
    INSERT INTO history (domain, name, ns, op, at, by_host, payload) VALUES ('msu', 'alice', 'ns', 'P', 0, 'h', 'a=1&bb=22'), ('msu', '', 'ids', 'P', 0, 'h', 'A1=alice');
    INSERT INTO activity (domain, name, at, by_host, text) VALUES ('msu', 'carol', 0, 'h', 'ü');`);
  old.close();
  const store = new UserStore(file);
  t.teardown(() => store.close());
  t.same(counters(store.db), [
    { domain: 'msu', name: 'alice', bytes: 2 + 4 + 4 + 9 },
    { domain: 'msu', name: 'bob', bytes: 2 },
    { domain: 'msu', name: 'carol', bytes: 2 },
  ]);
  t.same(counters(store.db), recount(store.db));
});
