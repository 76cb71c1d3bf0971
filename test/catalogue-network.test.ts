/**
 * The classic catalogue through the network: three real daemons of domain
 * msu on 127.0.9.x (library servers msul1 and msul2, access server msua1),
 * every request sent from the access server's local client.
 *
 *   msua1 ──────────────────────────────▶ msul1 (127.0.9.2)
 *     │ (127.0.9.4)
 *     └──▶ fault proxy (127.0.9.5) ─────▶ msul2 (127.0.9.3)
 *
 * msua1's hosts table lists msul2 at the proxy, so a reply from msul2 can be
 * lost after the request was applied (the proxy cuts the connection), which
 * is how the exactly-once tests make the sender spool and replay.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { escape } from '../lib/client/escape';
import { homeServer, Lonnet, NO_HOST, type HostInfo, type Transport } from '../lib/client/lonnet';
import { startFaultProxy } from './helpers/fault-proxy';
import { makeNetwork, PEER_PORT, query, type Daemon } from './helpers/network';
import { waitFor } from './helpers/wait';

const PASSWORD = 'Al1ce: s3cret & safe=%';
const BOB_PASSWORD = 'b0b-pw';
const UNSPOOLED_PASSWORD = 'never-spooled-S3cret';

t.test('the catalogue through the network', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'msul1', ip: '127.0.9.2', domain: 'msu', role: 'library' },
    { id: 'msul2', ip: '127.0.9.3', domain: 'msu', role: 'library' },
    { id: 'msua1', ip: '127.0.9.4', domain: 'msu', role: 'access' },
  ]);
  const accView = net.writeHosts([net.line('msul1'), net.line('msul2', '127.0.9.5'), net.line('msua1')], join(net.dir, 'msua1-hosts.tab'));
  const proxy = await startFaultProxy({
    listen: { host: '127.0.9.5', port: PEER_PORT },
    upstream: { host: '127.0.9.3', port: PEER_PORT },
    localAddress: '127.0.9.4',
  });
  t.teardown(() => proxy.close());
  // msua1 creates users and grants roles below, which only library servers of the users'
  // domain and managers may (docs/commands.md, Access): it is the library servers' manager.
  const lib1 = await net.start('msul1', ['--managers', 'msua1']);
  const lib2 = await net.start('msul2', ['--managers', 'msua1']);
  // No keepalive pings on msua1's links: an armed proxy must cut at the reply under test, not at a ping's.
  const acc = await net.start('msua1', ['--hosts', accView, '--ping-interval-ms', '600000']);
  const client = await acc.client();
  t.teardown(() => client.close());
  const lonnet = new Lonnet(client);
  const data = (d: Daemon) => join(d.host.spool, 'data.sqlite');
  const accSpool = join(acc.host.spool, 'spool.sqlite');

  t.equal(await client.reply('msul1', `makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await client.reply('msul2', `makeuser:msu:bob:internal:${escape(BOB_PASSWORD)}`), 'ok');

  t.test('home server lookup over two library servers and an access server', async (t) => {
    const hosts = JSON.parse(await client.admin('hosts')) as HostInfo[];
    t.same(hosts, [
      { id: 'msul1', domain: 'msu', role: 'library' },
      { id: 'msul2', domain: 'msu', role: 'library' },
      { id: 'msua1', domain: 'msu', role: 'access' },
    ]);
    const sent: string[] = [];
    const counting: Transport = {
      reply: (peer, command, opts) => {
        sent.push(`${peer} ${command}`);
        return client.reply(peer, command, opts);
      },
      critical: (peer, command) => client.critical(peer, command),
    };
    let clock = 1_700_000_000_000;
    const options = { ttlMs: 60_000, now: () => clock };
    const lookup = (user: string) => homeServer(counting, hosts, user, 'msu', options);
    const asked = () => sent.splice(0);

    t.equal(await lookup('alice'), 'msul1');
    t.same(asked(), ['msul1 home:msu:alice', 'msul2 home:msu:alice'], 'every library server of the domain, never the access server');
    t.equal(await lookup('bob'), 'msul2');
    t.same(asked(), ['msul1 home:msu:bob', 'msul2 home:msu:bob']);
    t.equal(await lookup('nobody'), NO_HOST);
    t.equal(NO_HOST, 'no_host');
    t.same(asked(), ['msul1 home:msu:nobody', 'msul2 home:msu:nobody']);
    t.equal(await homeServer(counting, hosts, 'alice', 'other'), NO_HOST, 'a domain without library servers');
    t.same(asked(), [], 'nobody to ask');

    t.equal(await lookup('alice'), 'msul1', 'from the cache');
    t.same(asked(), [], 'no request while the cached answer lives');
    clock += 60_001;
    t.equal(await lookup('alice'), 'msul1');
    t.same(asked(), ['msul1 home:msu:alice', 'msul2 home:msu:alice'], 'asked again once the time-to-live passed');

    t.equal(await client.reply('msul2', 'makeuser:msu:nobody:none:'), 'ok');
    t.equal(await lookup('nobody'), 'msul2', 'no_host was not cached');
    asked();
    t.equal(await client.reply('msul1', 'makeuser:msu:carl:none:'), 'ok');
    t.same(await Promise.all([lookup('carl'), lookup('carl'), lookup('carl')]), ['msul1', 'msul1', 'msul1']);
    t.same(asked(), ['msul1 home:msu:carl', 'msul2 home:msu:carl'], 'concurrent lookups share one round');
  });

  t.test('authentication through the network', async (t) => {
    t.equal(await client.reply('msul1', `auth:msu:alice:${escape(PASSWORD)}`), 'authorized');
    t.equal(await client.reply('msul1', `auth:msu:alice:${escape(PASSWORD + ' ')}`), 'non_authorized', 'wrong password');
    t.equal(await client.reply('msul1', `auth:msu:ghost:${escape(PASSWORD)}`), 'non_authorized', 'unknown user: the same reply');
    t.equal(await client.reply('msul1', `auth:msu:bob:${escape(BOB_PASSWORD)}`), 'non_authorized', 'bob does not live on msul1');
    t.equal(await client.reply('msul1', 'auth:msu:carl:x'), 'non_authorized', 'no internal password');
    t.equal(await client.reply('msul2', `auth:msu:bob:${escape(BOB_PASSWORD)}`), 'authorized', 'through the proxy');
    t.equal(await lonnet.auth('msul1', 'msu', 'alice', PASSWORD), true);
    t.equal(await lonnet.auth('msul1', 'msu', 'alice', 'wrong'), false);
    t.equal(await lonnet.auth('msul1', 'msu', 'ghost', 'wrong'), false);
    t.equal(await client.reply('msul1', 'currentauth:msu:alice'), 'internal:', 'the hash is never answered');
  });

  t.test('critical inc, store and log are applied once when a reply is lost', async (t) => {
    const applied = () => query<{ n: number }>(data(lib2), 'SELECT count(*) AS n FROM applied')[0]!.n;
    const recalled = () => lib2.stderr.filter((l) => /critical \S+ from msua1 already applied; answering the recorded reply/.test(l)).length;
    /** Send one critical command whose reply the proxy drops; wait for its replay to be answered from the record. */
    const loseReply = async (command: string, nth: number): Promise<void> => {
      proxy.dropNextReply();
      t.equal(await client.critical('msul2', command), 'con_delayed', `${command.split(':')[0]}: reply lost, spooled`);
      t.equal(proxy.dropped, nth);
      await waitFor('the spool drained', () => query(accSpool, 'SELECT seq FROM queue').length === 0);
      await waitFor('the replay answered from the applied record', () => recalled() === nth);
      t.same(query(accSpool, 'SELECT seq FROM aside'), [], 'nothing set aside');
    };

    t.equal(await client.reply('msul2', 'inc:msu:amy:counts:n=5'), 'ok');
    t.equal(applied(), 0, 'requests are not recorded, only critical messages');
    await loseReply('inc:msu:amy:counts:n=2', 1);
    t.equal(await client.reply('msul2', 'get:msu:amy:counts:n'), '7', '5 + 2, not 5 + 2 + 2');
    t.same(query(data(lib2), "SELECT op, by_host, payload FROM history WHERE name = 'amy' AND ns = 'counts' ORDER BY id"), [
      { op: 'I', by_host: 'msua1', payload: 'n=5' },
      { op: 'I', by_host: 'msua1', payload: 'n=2' },
    ]);
    t.equal(applied(), 1);

    await loseReply('store:msu:amy:c101:p1:awarded=1&tries=1', 2);
    const records = query<{ version: number; by_host: string; pairs: string; at: number }>(
      data(lib2),
      "SELECT version, by_host, pairs, at FROM records WHERE name = 'amy' AND rid = 'p1'",
    );
    t.same(
      records.map(({ version, by_host, pairs }) => ({ version, by_host, pairs })),
      [{ version: 1, by_host: 'msua1', pairs: 'awarded=1&tries=1' }],
      'one version, not two',
    );
    const ts = Math.floor(records[0]!.at / 1000);
    t.equal(
      await client.reply('msul2', 'restore:msu:amy:c101:p1'),
      `version=1&1:keys=awarded:tries:timestamp&1:awarded=1&1:tries=1&1:timestamp=${ts}`,
    );
    t.equal(applied(), 2);

    await loseReply('log:msu:amy:submitted p1: tries=1', 3);
    t.same(query(data(lib2), "SELECT by_host, text FROM activity WHERE name = 'amy'"), [
      { by_host: 'msua1', text: 'submitted p1: tries=1' },
    ]);
    t.same(query(data(lib2), 'SELECT reply FROM applied'), [{ reply: 'ok' }, { reply: 'ok' }, { reply: 'ok' }]);
  });

  t.test('the roles namespace is written only by rolesput and rolesdel', async (t) => {
    const role = escape('/msu/c101_st');
    for (const line of [
      `put:msu:alice:roles:${role}=st_0_0`,
      `newput:msu:alice:roles:${role}=st_0_0`,
      `del:msu:alice:roles:${role}`,
      `inc:msu:alice:roles:${role}`,
      `store:msu:alice:roles:r:${role}=st_0_0`,
    ]) {
      t.equal(await client.reply('msul1', line), 'refused', line);
    }
    t.equal(await client.critical('msul1', `put:msu:alice:roles:${role}=st_0_0`), 'refused', 'critical too');
    t.same(query(data(lib1), "SELECT key FROM kv WHERE ns = 'roles'"), [], 'nothing written');
    t.same(query(accSpool, 'SELECT seq FROM queue UNION ALL SELECT seq FROM aside'), [], 'a refusal is an answer, not spooled');

    t.equal(await client.reply('msul1', `rolesput:msu:prof:msu:alice:${role}=st_0_1700000000`), 'ok');
    t.equal(await client.reply('msul1', `get:msu:alice:roles:${role}`), 'st_0_1700000000');
    t.same(await lonnet.dump('msul1', 'msu', 'alice', 'roles'), { '/msu/c101_st': 'st_0_1700000000' });
    t.equal(await client.reply('msul1', `rolesdel:msu:prof:msu:alice:${role}`), 'ok');
    t.equal(await client.reply('msul1', 'dump:msu:alice:roles'), '');
    t.same(query(data(lib1), "SELECT op, by_host, executor, payload FROM history WHERE ns = 'roles' ORDER BY id"), [
      { op: 'P', by_host: 'msua1', executor: 'prof:msu', payload: `${role}=st_0_1700000000` },
      { op: 'D', by_host: 'msua1', executor: 'prof:msu', payload: role },
    ]);
  });

  t.test('store and restore keep every version', async (t) => {
    const symb = escape('msu/seq___1___msu/smith/p.problem');
    t.equal(await client.reply('msul1', `restore:msu:alice:c101:${symb}`), 'version=0');
    t.equal(await client.reply('msul1', `store:msu:alice:c101:${symb}:awarded=0&tries=1`), 'ok');
    t.equal(await client.reply('msul1', `store:msu:alice:c101:${symb}:awarded=1&tries=2`), 'ok');
    t.equal(await client.reply('msul1', `store:msu:alice:c101:${symb}:timestamp=1`), 'error:timestamp is set by the server');
    const at = query<{ at: number }>(data(lib1), "SELECT at FROM records WHERE name = 'alice' ORDER BY version").map((r) => Math.floor(r.at / 1000));
    t.equal(at.length, 2);
    t.equal(
      await client.reply('msul1', `restore:msu:alice:c101:${symb}`),
      `version=2&1:keys=awarded:tries:timestamp&1:awarded=0&1:tries=1&1:timestamp=${at[0]}` +
        `&2:keys=awarded:tries:timestamp&2:awarded=1&2:tries=2&2:timestamp=${at[1]}`,
    );
    t.same(await lonnet.restore('msul1', 'msu', 'alice', 'c101', 'msu/seq___1___msu/smith/p.problem'), {
      version: 2,
      versions: [
        { version: 1, timestamp: at[0], values: { awarded: '0', tries: '1' } },
        { version: 2, timestamp: at[1], values: { awarded: '1', tries: '2' } },
      ],
    });

    const writers = Array.from({ length: 8 }, (_, i) => lonnet.store('msul1', 'msu', 'alice', 'c101', 'race', { writer: String(i) }));
    t.same(await Promise.all(writers), Array(8).fill('ok'));
    const raced = query<{ version: number; pairs: string }>(data(lib1), "SELECT version, pairs FROM records WHERE rid = 'race' ORDER BY version");
    t.same(raced.map((r) => r.version), [1, 2, 3, 4, 5, 6, 7, 8], 'concurrent writers each get their own version');
    t.same(raced.map((r) => r.pairs).sort(), Array.from({ length: 8 }, (_, i) => `writer=${i}`));
  });

  t.test('a secret-bearing critical command to a stopped peer answers con_lost and is never spooled', async (t) => {
    await lib1.stop();
    const secret = escape(UNSPOOLED_PASSWORD);
    for (const line of [
      `makeuser:msu:zed:internal:${secret}`,
      `changeuserauth:msu:alice:internal:${secret}`,
      `passwd:msu:alice:${escape(PASSWORD)}:${secret}`,
      `auth:msu:alice:${secret}`,
      `encrypt:put:msu:alice:environment:pw=${secret}`,
    ]) {
      t.equal(await client.critical('msul1', line), 'con_lost', line.split(':')[0]);
    }
    t.same(query(accSpool, 'SELECT seq FROM queue'), [], 'the queue is empty');
    t.same(query(accSpool, 'SELECT seq FROM aside'), []);

    // The spool path itself works: a plain critical write to the same stopped peer waits there.
    t.equal(await client.critical('msul1', 'put:msu:alice:environment:colour=red'), 'con_delayed');
    t.same(query(accSpool, 'SELECT peer, command FROM queue'), [{ peer: 'msul1', command: 'put:msu:alice:environment:colour=red' }]);

    const files = (await readdir(acc.host.spool)).filter((f) => /^(spool|data)\.sqlite/.test(f));
    t.ok(files.includes('spool.sqlite'));
    for (const file of files) {
      const bytes = await readFile(join(acc.host.spool, file));
      t.equal(bytes.indexOf(UNSPOOLED_PASSWORD), -1, `${file} does not hold the password`);
      t.equal(bytes.indexOf(secret), -1, `${file} does not hold it escaped`);
    }
    const logs = acc.stderr.join('\n');
    t.equal(logs.indexOf(UNSPOOLED_PASSWORD), -1, 'nor does the log');
    t.equal(logs.indexOf(secret), -1);

    // With one library server down, the others still answer for their users.
    const fresh: Transport = { reply: (p, c, o) => client.reply(p, c, o), critical: (p, c) => client.critical(p, c) };
    const hosts = JSON.parse(await client.admin('hosts')) as HostInfo[];
    t.equal(await homeServer(fresh, hosts, 'bob', 'msu'), 'msul2');
  });
});
