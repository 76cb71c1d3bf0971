/**
 * Configuration: the hosts table parser (errors name file and line), the
 * backoff policy, the command-line splitter, and yargs precedence
 * (flags > LONCAPAD_* environment > JSON file > defaults).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CommandTable } from '../lib/commands/table';
import { splitPrefixes } from '../lib/commands/prefixes';
import { loadConfig, parseHostsTable } from '../lib/config';
import { nextDelayMs } from '../lib/peers';

const KEY = 'A'.repeat(43) + '=';

t.test('hosts table', async (t) => {
  const table = parseHostsTable(
    `# comment\n\nmsul1:msu:library:s1.msu.edu:10.0.0.1:${KEY} # trailing comment\nmsua1:msu:access:s2.msu.edu:10.0.0.1:${KEY}\nv6:msu:library:s3:::1:${KEY}\n`,
    'hosts.tab',
  );
  t.same(table.all().map((h) => h.id), ['msul1', 'msua1', 'v6']);
  t.equal(table.get('v6')!.ip, '::1');
  t.same(table.idsAtIp('10.0.0.1'), ['msul1', 'msua1']);
  const bad: Array<[string, RegExp]> = [
    ['a:b:c', /hosts\.tab:2: expected lonid:domain:role:hostname:ip:publickey, got 3 fields/],
    [`a:d:server:h:10.0.0.1:${KEY}`, /hosts\.tab:2: role must be library or access/],
    [`a:d:library:h:10.0.0.300:${KEY}`, /hosts\.tab:2: bad ip address/],
    ['a:d:library:h:10.0.0.1:short', /hosts\.tab:2: bad public key/],
    [`../x:d:library:h:10.0.0.1:${KEY}`, /hosts\.tab:2: bad lonid/],
    [`msul1:d:library:h:10.0.0.2:${KEY}`, /hosts\.tab:2: duplicate lonid "msul1" \(first on line 1\)/],
  ];
  for (const [line, re] of bad) {
    t.throws(() => parseHostsTable(`msul1:msu:library:h:10.0.0.1:${KEY}\n${line}\n`, 'hosts.tab'), { code: 'LC_ERR_HOSTS_TABLE', message: re });
  }
});

t.test('backoff', async (t) => {
  const policy = { floorMs: 100, ceilingMs: 5_000 };
  t.equal(nextDelayMs(0, policy, () => 0), 100, 'never below the floor');
  t.equal(nextDelayMs(0, policy, () => 1), 200, 'the first retry is jittered too, up to twice the floor');
  t.equal(nextDelayMs(3, policy, () => 0), 800, 'the base: floor × 2^attempt');
  t.equal(nextDelayMs(3, policy, () => 1), 1_600, 'up to twice the base');
  t.equal(nextDelayMs(50, policy, () => 1), 5_000, 'capped at the ceiling');
  t.equal(nextDelayMs(50, policy, () => 0), 5_000);
});

t.test('command line splitting and prefixes', async (t) => {
  const table = new CommandTable().register({
    name: 'log',
    access: 'any',
    writes: false,
    secret: false,
    fields: { min: 3, max: 3 },
    run: () => 'ok',
  });
  t.same(table.parse('log:d:u:text:with:colons').args, ['d', 'u', 'text:with:colons']);
  t.throws(() => table.parse('log:d'), { code: 'LC_ERR_BAD_ARGS' });
  t.throws(() => table.parse('nope:x'), { code: 'LC_ERR_UNKNOWN_COMMAND' });
  t.same(splitPrefixes('sethost:b:encrypt:auth:d:u:pw'), { sethost: 'b', encrypted: true, rest: 'auth:d:u:pw' });
  t.same(splitPrefixes('sethost:b'), { sethost: undefined, encrypted: false, rest: 'sethost:b' });
});

t.test('configuration precedence: flags > environment > file > defaults', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'conf.json');
  writeFileSync(file, JSON.stringify({ port: 7001, hostId: 'fromfile', loadLimit: 3, spool: dir }));
  const saved = { ...process.env };
  t.teardown(() => {
    process.env = saved;
  });
  t.equal(loadConfig(['--spool', dir]).port, 5663, 'default');
  t.equal(loadConfig(['--config', file]).port, 7001, 'file over default');
  process.env.LONCAPAD_PORT = '7002';
  process.env.LONCAPAD_HOST_ID = 'fromenv';
  const c = loadConfig(['--config', file]);
  t.equal(c.port, 7002, 'environment over file');
  t.equal(c.hostId, 'fromenv');
  t.equal(c.loadLimit, 3, 'file value kept where nothing overrides it');
  t.equal(loadConfig(['--config', file, '--port', '7003']).port, 7003, 'flag over environment');
  t.equal(loadConfig(['--config', file, '--port', '7003', '--port', '7004']).port, 7004, 'the last flag wins');
  t.throws(() => loadConfig(['--spool', dir, '--bogus-option', '1']), { code: 'LC_ERR_CONFIG' });
  t.throws(() => loadConfig(['--spool', dir, '--backoff-floor-ms', '10', '--backoff-ceiling-ms', '5']), /ceiling/);
  t.equal(loadConfig(['--spool', dir, '--resource-expire', '5000']).resourceExpireMs, 5000, 'classic lonExpire has its name too');
  t.throws(() => loadConfig(['--spool', dir, '--request-timeout-ms', '86400001']), /--request-timeout-ms must be a number from 1 to 86400000/);
});
