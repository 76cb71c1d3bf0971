import t from 'tap';
import {
  Lonnet,
  LonnetError,
  NO_HOST,
  forgetHomeServer,
  homeServer,
  spareServer,
  type HostInfo,
  type Transport,
} from '../lib/client/lonnet';
import { makeFixture, type Fixture } from './helpers/commands-fixture';

/** Commands go straight into real command tables and stores, one per host; `down` hosts spool. */
class FixtureTransport implements Transport {
  readonly sent: Array<[peer: string, command: string]> = [];
  readonly down = new Set<string>();
  #msgids = 0;

  /** `caller` is the host whose local client the wrappers stand for. */
  constructor(
    readonly hosts: Record<string, Fixture>,
    readonly caller = 'acc1',
  ) {}

  async reply(peer: string, command: string): Promise<string> {
    this.sent.push([peer, command]);
    const host = this.hosts[peer];
    if (!host) return 'no_such_host';
    if (this.down.has(peer)) return 'con_lost';
    return host.call(command, { caller: this.caller });
  }

  async critical(peer: string, command: string): Promise<string> {
    this.sent.push([peer, command]);
    if (this.down.has(peer)) return 'con_delayed';
    return this.hosts[peer]!.call(command, { caller: this.caller, msgid: `m${++this.#msgids}` });
  }
}

t.test('typed wrappers round-trip escaped keys and values', async (t) => {
  const lib = makeFixture(t);
  const net = new Lonnet(new FixtureTransport({ lib1: lib }));
  const record = { 'first name': 'Alice', 'a:b&c=d': 'x=1&y=2: 100%', 'ü': '🎓' };
  t.equal(await net.put('lib1', 'msu', 'alice', 'env', record), 'ok');
  t.same(await net.get('lib1', 'msu', 'alice', 'env', ['ü', 'missing', 'first name']), {
    'ü': '🎓',
    missing: '',
    'first name': 'Alice',
  });
  t.same(await net.eget('lib1', 'msu', 'alice', 'env', ['a:b&c=d']), { 'a:b&c=d': 'x=1&y=2: 100%' });
  t.same(await net.dump('lib1', 'msu', 'alice', 'env'), record);
  t.same(await net.dump('lib1', 'msu', 'alice', 'env', { regexp: '^first' }), { 'first name': 'Alice' });
  // Ranges count in the order of the escaped keys: %C3%BC, a%3Ab…, first%20name.
  t.same(await net.dump('lib1', 'msu', 'alice', 'env', { range: { start: 1, end: 2 } }), { 'a:b&c=d': 'x=1&y=2: 100%' });
  t.same((await net.keys('lib1', 'msu', 'alice', 'env')).sort(), Object.keys(record).sort());
  t.equal(await net.del('lib1', 'msu', 'alice', 'env', ['ü']), 'ok');
  t.same(await net.keys('lib1', 'msu', 'alice', 'nothing'), []);
  t.same(await net.get('lib1', 'msu', 'alice', 'env', []), {});
});

t.test('inc, newput, log and critical writes', async (t) => {
  const lib = makeFixture(t);
  const transport = new FixtureTransport({ lib1: lib });
  const net = new Lonnet(transport);
  t.equal(await net.inc('lib1', 'msu', 'alice', 'n', ['a', 'a']), 'ok');
  t.equal(await net.inc('lib1', 'msu', 'alice', 'n', { a: 3, b: -1.5 }, { critical: true }), 'ok');
  t.same(await net.get('lib1', 'msu', 'alice', 'n', ['a', 'b']), { a: '5', b: '-1.5' });
  t.equal(await net.newput('lib1', 'msu', 'alice', 'n', { c: '1' }), 'ok');
  const exists = await net.newput('lib1', 'msu', 'alice', 'n', { c: '2' }).catch((e: unknown) => e);
  t.ok(exists instanceof LonnetError);
  t.match(exists, { code: 'key_exists', reply: 'key_exists: c' });
  t.equal(await net.log('lib1', 'msu', 'alice', 'logged in: ok', { critical: true }), 'ok');
  t.throws(() => net.log('lib1', 'msu', 'alice', 'two\nlines'), TypeError);
  transport.down.add('lib1');
  t.equal(await net.put('lib1', 'msu', 'alice', 'n', { d: '1' }, { critical: true }), 'con_delayed');
  await t.rejects(net.put('lib1', 'msu', 'alice', 'n', { d: '1' }), { code: 'con_lost', reply: 'con_lost' });
});

t.test('store, restore and currentdump parse into objects', async (t) => {
  const lib = makeFixture(t, { now: () => 1_700_000_000_000 });
  const net = new Lonnet(new FixtureTransport({ lib1: lib }));
  const symb = 'msu/seq___1___msu/smith/p.problem';
  t.equal(await net.store('lib1', 'msu', 'alice', 'c101', symb, { 'resource.1.awarded': '0', tries: '1' }), 'ok');
  t.equal(await net.store('lib1', 'msu', 'alice', 'c101', symb, { 'resource.1.awarded': '1' }, { critical: true }), 'ok');
  t.same(await net.restore('lib1', 'msu', 'alice', 'c101', symb), {
    version: 2,
    versions: [
      { version: 1, timestamp: 1_700_000_000, values: { 'resource.1.awarded': '0', tries: '1' } },
      { version: 2, timestamp: 1_700_000_000, values: { 'resource.1.awarded': '1' } },
    ],
  });
  t.same(await net.restore('lib1', 'msu', 'alice', 'c101', 'none'), { version: 0, versions: [] });
  t.same(await net.currentdump('lib1', 'msu', 'alice', 'c101'), {
    [symb]: { 'resource.1.awarded': '1', tries: '1', timestamp: '1700000000' },
  });
});

t.test('roles, ids, tmp and authentication wrappers', async (t) => {
  const lib = makeFixture(t);
  // From lib2, a library server of msu: it may change roles, ids and accounts of msu users.
  const net = new Lonnet(new FixtureTransport({ lib1: lib }, 'lib2'));
  const prof = { domain: 'msu', name: 'prof' };
  t.equal(await net.rolesput('lib1', prof, 'msu', 'alice', { '/msu/c101_st': 'st_0_0' }), 'ok');
  t.same(await net.dump('lib1', 'msu', 'alice', 'roles'), { '/msu/c101_st': 'st_0_0' });
  await t.rejects(net.put('lib1', 'msu', 'alice', 'roles', { x: '1' }), { code: 'refused', reply: 'refused' });
  t.equal(await net.rolesdel('lib1', prof, 'msu', 'alice', ['/msu/c101_st']), 'ok');
  t.equal(await net.idput('lib1', 'msu', { A1: 'alice' }), 'ok');
  t.same(await net.idget('lib1', 'msu', ['A1', 'B2']), { A1: 'alice', B2: '' });
  const id = await net.tmpput('lib1', { q: 'a&b' });
  t.same(await net.tmpget('lib1', id), { q: 'a&b' });
  await net.tmpdel('lib1', id);
  await t.rejects(net.tmpget('lib1', id), { code: 'error', reply: 'error:not_found' });
  t.equal(await net.home('lib1', 'msu', 'alice'), false);
  await net.makeuser('lib1', 'msu', 'alice', 'internal', 'pw: &=%');
  t.equal(await net.home('lib1', 'msu', 'alice'), true);
  t.equal(await net.auth('lib1', 'msu', 'alice', 'pw: &=%'), true);
  t.equal(await net.auth('lib1', 'msu', 'alice', 'nope'), false);
  t.same(await net.currentauth('lib1', 'msu', 'alice'), { type: 'internal', arg: '' });
  t.equal(await net.currentauth('lib1', 'msu', 'nobody'), undefined);
  t.equal(await net.passwd('lib1', 'msu', 'alice', 'pw: &=%', 'new'), 'ok');
  t.equal(await net.passwd('lib1', 'msu', 'alice', 'pw: &=%', 'again'), 'non_authorized');
  await net.changeuserauth('lib1', 'msu', 'alice', 'krb5', 'MSU.EDU');
  t.same(await net.currentauth('lib1', 'msu', 'alice'), { type: 'krb5', arg: 'MSU.EDU' });
  await t.rejects(net.makeuser('lib1', 'msu', 'alice', 'internal', 'x'), { code: 'error', reply: 'error:already_exists' });
});

t.test('failure replies throw LonnetError with the classic reply and code', async (t) => {
  const lib = makeFixture(t);
  const net = new Lonnet(new FixtureTransport({ lib1: lib }));
  await t.rejects(net.get('nowhere', 'msu', 'alice', 'ns', ['a']), { code: 'no_such_host', reply: 'no_such_host' });
  await t.rejects(net.get('lib1', 'msu', 'alice', 'bad.ns', ['a']), { code: 'error', reply: 'error:bad namespace' });
  await t.rejects(net.dump('lib1', 'msu', 'alice', 'ns', { regexp: '(a)\\1' }), {
    code: 'error',
    reply: 'error:regexp refused (back-reference)',
  });
  const unknown = new Lonnet({ reply: async () => 'unknown_cmd', critical: async () => 'unknown_cmd' });
  await t.rejects(unknown.keys('lib1', 'msu', 'alice', 'ns'), { code: 'unknown_cmd', name: 'LonnetError' });
  t.throws(() => net.get('lib1', 'msu', 'al:ice', 'ns', ['a']), TypeError, 'names that would break the line');
});

const HOSTS: HostInfo[] = [
  { id: 'lib1', domain: 'msu', role: 'library' },
  { id: 'lib2', domain: 'msu', role: 'library' },
  { id: 'acc1', domain: 'msu', role: 'access' },
  { id: 'lib9', domain: 'other', role: 'library' },
];

t.test('homeServer asks every library server of the domain and caches what it found', async (t) => {
  const lib1 = makeFixture(t);
  const lib2 = makeFixture(t);
  const acc1 = makeFixture(t);
  t.equal(await lib2.call('makeuser:msu:alice:none:', { local: true }), 'ok');
  const transport = new FixtureTransport({ lib1, lib2, acc1 });
  let now = 0;
  const opts = { ttlMs: 1000, now: () => now };
  t.equal(await homeServer(transport, HOSTS, 'alice', 'msu', opts), 'lib2');
  t.same(transport.sent.map(([peer]) => peer).sort(), ['lib1', 'lib2'], 'only the domain’s library servers');
  transport.sent.length = 0;
  t.equal(await homeServer(transport, HOSTS, 'alice', 'msu', opts), 'lib2');
  t.same(transport.sent, [], 'cached');
  now = 1000;
  t.equal(await homeServer(transport, HOSTS, 'alice', 'msu', opts), 'lib2');
  t.equal(transport.sent.length, 2, 'asked again after the time-to-live');
  forgetHomeServer(transport, 'alice', 'msu');
  transport.sent.length = 0;
  const [a, b] = await Promise.all([homeServer(transport, HOSTS, 'alice', 'msu', opts), homeServer(transport, HOSTS, 'alice', 'msu', opts)]);
  t.same([a, b], ['lib2', 'lib2']);
  t.equal(transport.sent.length, 2, 'concurrent lookups share one round');
  t.equal(await homeServer(transport, HOSTS, 'nobody', 'msu', opts), NO_HOST);
  t.equal(await homeServer(transport, HOSTS, 'alice', 'nodomain', opts), NO_HOST);
  transport.down.add('lib1');
  await t.rejects(
    homeServer(transport, HOSTS, 'carol', 'msu', opts),
    { code: 'con_lost' },
    'an unreachable library server may be her home: not no_host',
  );
  transport.down.add('lib2');
  transport.down.delete('lib1');
  t.equal(await homeServer(transport, HOSTS, 'alice', 'msu', opts), 'lib2', 'a cached home still answers while it is down');
});

t.test('homeServer: the first found wins without waiting for slow servers', async (t) => {
  let release: () => void = () => {};
  const slow = new Promise<string>((resolve) => (release = () => resolve('not_found')));
  const transport: Transport = {
    reply: (peer) => (peer === 'lib1' ? slow : Promise.resolve('found')),
    critical: () => Promise.reject(new Error('unused')),
  };
  t.equal(await homeServer(transport, HOSTS, 'alice', 'msu'), 'lib2');
  release();
});

t.test('homeServer: a transport failure is not reported as no_host', async (t) => {
  const broken: Transport = {
    reply: (peer) => (peer === 'lib1' ? Promise.reject(new Error('daemon not running')) : Promise.resolve('not_found')),
    critical: () => Promise.reject(new Error('unused')),
  };
  await t.rejects(homeServer(broken, HOSTS, 'alice', 'msu'), { message: 'daemon not running' });
  const halfBroken: Transport = { ...broken, reply: (peer) => (peer === 'lib1' ? Promise.reject(new Error('x')) : Promise.resolve('found')) };
  t.equal(await homeServer(halfBroken, HOSTS, 'alice', 'msu'), 'lib2');
});

t.test('spareServer picks the least loaded spare by the larger of load and userload', async (t) => {
  const loads: Record<string, [string, string]> = {
    s1: ['40', '90'],
    s2: ['60', '10'],
    s3: ['20', '95'],
    s4: ['con_lost', 'con_lost'],
    s5: ['150', '0'],
  };
  const transport: Transport = {
    reply: async (peer, command) => loads[peer]![command === 'load' ? 0 : 1],
    critical: () => Promise.reject(new Error('unused')),
  };
  t.equal(await spareServer(transport, ['s1', 's2', 's3', 's4', 's5']), 's2');
  t.equal(await spareServer(transport, ['s1', 's3']), 's1');
  t.equal(await spareServer(transport, ['s4', 's5']), undefined, 'none below 100');
  t.equal(await spareServer(transport, ['s1', 's3'], { maxLoad: 50 }), undefined);
  t.equal(await spareServer(transport, []), undefined);
});
