import t from 'tap';
import { escape } from '../lib/client/escape';
import { makeFixture } from './helpers/commands-fixture';

const T0 = 1_700_000_000_000;

function clock(start = T0): { now: () => number; advance(ms: number): void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

t.test('store keeps every version; restore answers all of them in the classic shape', async (t) => {
  const c = clock();
  const f = makeFixture(t, { now: c.now });
  const rid = escape('msu/course/seq___1___msu/author/p1.problem');
  t.equal(await f.call(`store:msu:alice:c101:${rid}:resource%2E1%2Eawarded=0&tries=1`), 'ok');
  c.advance(61_000);
  t.equal(await f.call(`store:msu:alice:c101:${rid}:resource%2E1%2Eawarded=1&tries=2`), 'ok');
  t.equal(
    await f.call(`restore:msu:alice:c101:${rid}`),
    'version=2' +
      '&1:keys=resource%2E1%2Eawarded:tries:timestamp&1:resource%2E1%2Eawarded=0&1:tries=1&1:timestamp=1700000000' +
      '&2:keys=resource%2E1%2Eawarded:tries:timestamp&2:resource%2E1%2Eawarded=1&2:tries=2&2:timestamp=1700000061',
  );
  t.equal(await f.call('restore:msu:alice:c101:never'), 'version=0');
});

t.test('currentdump answers the latest value of each key of each record', async (t) => {
  const c = clock();
  const f = makeFixture(t, { now: c.now });
  t.equal(await f.call('store:msu:alice:c101:p1:a=1&b=1'), 'ok');
  c.advance(1000);
  t.equal(await f.call('store:msu:alice:c101:p1:a=2'), 'ok');
  t.equal(await f.call('store:msu:alice:c101:p2:x=9'), 'ok');
  t.equal(await f.call('currentdump:msu:alice:c101'), 'p1:a=2&p1:b=1&p1:timestamp=1700000001&p2:x=9&p2:timestamp=1700000001');
  t.equal(await f.call('currentdump:msu:alice:nothing'), '');
});

t.test('currentdump pages through many records', async (t) => {
  const f = makeFixture(t, { now: () => T0 });
  const user = { domain: 'msu', name: 'alice' };
  for (let i = 0; i < 1500; i++) {
    f.store.records.store(user, 'c', `r${String(i).padStart(4, '0')}`, [['n', String(i)]], { byHost: 'test' });
  }
  f.store.records.store(user, 'c', 'r0999', [['n', 'again']], { byHost: 'test' });
  const items = (await f.call('currentdump:msu:alice:c')).split('&');
  t.equal(items.length, 3000);
  t.equal(items[1998], 'r0999:n=again');
  t.equal(items[2999], 'r1499:timestamp=1700000000');
});

t.test('concurrent writers to one record each get their own version', async (t) => {
  const f = makeFixture(t);
  const writes = Array.from({ length: 20 }, (_, i) => f.call(`store:msu:alice:c:r:n=${i}`, { caller: `acc${i % 3}` }));
  t.same(await Promise.all(writes), Array(20).fill('ok'));
  const reply = await f.call('restore:msu:alice:c:r');
  t.match(reply, /^version=20&/);
  const values = [...reply.matchAll(/&(\d+):n=(\d+)/g)].map((m) => m[2]).sort((a, b) => Number(a) - Number(b));
  t.same(values, Array.from({ length: 20 }, (_, i) => String(i)), 'every value kept');
});

t.test('a replayed critical store adds one version only', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('store:msu:alice:c:r:n=1', { msgid: 'x1' }), 'ok');
  t.equal(await f.call('store:msu:alice:c:r:n=1', { msgid: 'x1' }), 'ok');
  t.match(await f.call('restore:msu:alice:c:r'), /^version=1&/);
});

t.test('store refuses bad input and changes nothing', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('store:msu:alice:c:r:timestamp=5'), 'error:timestamp is set by the server');
  t.equal(await f.call('store:msu:alice:c:r'), 'error:store needs 5 arguments');
  t.equal(await f.call('store:msu:alice:c::a=1'), 'error:empty record id');
  t.equal(await f.call('store:msu:alice:c:r:a=1:b'), 'error:unescaped character in value');
  t.equal(await f.call('store:msu:alice:c:r%zz:a=1'), 'error:bad escape in record id');
  t.equal(await f.call('store:msu:alice:c:r:'), 'error:no key=value pairs');
  t.equal(await f.call('restore:msu:alice:c:r'), 'version=0');
  t.equal(f.store.db.prepare('SELECT count(*) FROM records').pluck().get(), 0);
});

t.test('restore above the reply limit is refused', async (t) => {
  const f = makeFixture(t, { settings: { maxReplyBytes: 500 } });
  for (let i = 0; i < 20; i++) t.equal(await f.call(`store:msu:alice:c:r:value=${'x'.repeat(20)}`), 'ok');
  t.equal(await f.call('restore:msu:alice:c:r'), 'error:restore reply larger than 500 bytes');
});
