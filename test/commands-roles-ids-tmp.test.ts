import t from 'tap';
import { escape } from '../lib/client/escape';
import { makeFixture, MSU_LIBRARY } from './helpers/commands-fixture';

t.test('rolesput and rolesdel write the roles namespace and record the executor', async (t) => {
  const f = makeFixture(t);
  const role = escape('/msu/c101_st');
  t.equal(await f.call(`rolesput:msu:prof:msu:alice:${role}=${escape('st_0_1700000000')}`, { caller: 'lib2' }), 'ok');
  t.equal(await f.call(`get:msu:alice:roles:${role}`), 'st_0_1700000000');
  t.equal(await f.call(`dump:msu:alice:roles`), `${role}=st_0_1700000000`);
  t.equal(await f.call(`rolesdel:msu:prof:msu:alice:${role}`, { caller: 'acc1', manager: true }), 'ok', 'a manager may too');
  t.equal(await f.call(`dump:msu:alice:roles`), '');
  t.same(f.store.db.prepare("SELECT op, by_host, executor, payload FROM history WHERE ns = 'roles' ORDER BY id").all(), [
    { op: 'P', by_host: 'lib2', executor: 'prof:msu', payload: `${role}=st_0_1700000000` },
    { op: 'D', by_host: 'acc1', executor: 'prof:msu', payload: role },
  ]);
});

t.test('rolesput refuses bad names', async (t) => {
  const f = makeFixture(t, { caller: MSU_LIBRARY });
  t.equal(await f.call('rolesput:msu:../x:msu:alice:r=1'), 'error:bad user name');
  t.equal(await f.call('rolesput:msu:prof:msu:alice'), 'error:rolesput needs 5 arguments');
  t.equal(await f.call('rolesput:msu:prof:msu:alice:r'), 'error:expected role=value');
  t.equal(f.store.db.prepare('SELECT count(*) FROM kv').pluck().get(), 0);
});

t.test('idput and idget map institutional ids to user names', async (t) => {
  const f = makeFixture(t, { caller: MSU_LIBRARY });
  t.equal(await f.call('idput:msu:A1234=alice&B99=bob'), 'ok');
  t.equal(await f.call('idget:msu:B99&nobody&A1234'), 'bob&&alice');
  t.equal(await f.call('idget:other:A1234'), '', 'maps are per domain');
  t.equal(await f.call('idput:msu:A1234=carol'), 'ok');
  t.equal(await f.call('idget:msu:A1234'), 'carol');
  t.equal(await f.call(`idput:msu:C1=${escape('dave.d@x-y')}`), 'ok');
  t.equal(await f.call('idget:msu:C1'), escape('dave.d@x-y'));
  t.equal(await f.call(`idput:msu:X=${escape('../etc')}`), 'error:bad user name');
  t.equal(await f.call('idput:msu:X'), 'error:expected id=value');
  t.equal(await f.call('idput:msu'), 'error:idput needs 2 arguments');
  t.same(
    f.store.db.prepare("SELECT domain, name, ns, op, payload FROM history WHERE ns = 'ids' ORDER BY id").all(),
    [
      { domain: 'msu', name: '', ns: 'ids', op: 'P', payload: 'A1234=alice&B99=bob' },
      { domain: 'msu', name: '', ns: 'ids', op: 'P', payload: 'A1234=carol' },
      { domain: 'msu', name: '', ns: 'ids', op: 'P', payload: 'C1=dave%2Ed%40x%2Dy' },
    ],
  );
});

t.test('tmp entries live until they expire', async (t) => {
  let now = 1_700_000_000_000;
  const f = makeFixture(t, { now: () => now, settings: { tmpLifetimeMs: 60_000 } });
  const id = await f.call('tmpput:query=abc&hits=3');
  t.match(id, /^[0-9a-f]{32}$/);
  t.equal(await f.call(`tmpget:${id}`), 'query=abc&hits=3');
  now += 59_999;
  t.equal(await f.call(`tmpget:${id}`), 'query=abc&hits=3');
  now += 1;
  t.equal(await f.call(`tmpget:${id}`), 'error:not_found', 'expired');
  t.equal(await f.call(`tmpdel:${id}`), 'error:not_found');
  t.equal(f.store.db.prepare('SELECT count(*) FROM tmp').pluck().get(), 1, 'still on disk until the next put');
  const other = await f.call('tmpput:x=1');
  t.equal(f.store.db.prepare('SELECT count(*) FROM tmp').pluck().get(), 1, 'the expired row was purged');
  t.equal(await f.call(`tmpdel:${other}`), 'ok');
  t.equal(await f.call(`tmpget:${other}`), 'error:not_found');
});

t.test('tmp ids are unguessable and tmp input is checked', async (t) => {
  const f = makeFixture(t);
  const a = await f.call('tmpput:x=1');
  const b = await f.call('tmpput:x=1');
  t.not(a, b);
  t.equal(await f.call('tmpget:../../etc/passwd'), 'error:bad tmp id');
  t.equal(await f.call('tmpget:'), 'error:bad tmp id');
  t.equal(await f.call('tmpput:a=1:b'), 'error:unescaped character in data');
  t.equal(await f.call('tmpput:a=%zz'), 'error:bad escape in data');
  t.equal(await f.call(`tmpput:${'x'.repeat(1024 * 1024 + 1)}`), 'error:data longer than 1048576 characters');
});

t.test('a replayed tmpput answers the same id and stores one entry', async (t) => {
  const f = makeFixture(t);
  const id = await f.call('tmpput:x=1', { msgid: 'm7' });
  t.equal(await f.call('tmpput:x=1', { msgid: 'm7' }), id);
  t.equal(f.store.db.prepare('SELECT count(*) FROM tmp').pluck().get(), 1);
});
