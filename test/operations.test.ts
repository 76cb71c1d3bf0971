/**
 * Operations (127.0.76.x): the JSON log format of a real daemon, setting
 * names told by where they came from, a port in use naming its setting,
 * `status --wait`, `spool hold` output, the process title under the launcher,
 * and `systemd-analyze verify` on the shipped unit (skipped, saying so,
 * without systemd-analyze).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { daemonTitle, fitTitle } from '../lib/process-title';
import { runCli } from './helpers/cli';
import { BIN, makeNetwork, PEER_PORT, shortTempDir, webPort } from './helpers/network';
import { waitFor } from './helpers/wait';

const ROOT = resolve(__dirname, '../..');

t.test('--log-format json: one {time, level, msg} object a line', async (t) => {
  const net = await makeNetwork(t, [{ id: 'oj', ip: '127.0.76.2' }]);
  const d = await net.start('oj', ['--log-format', 'json']);
  await d.stop();
  t.ok(d.stderr.length >= 3, 'ready, stopping and stopped at least');
  for (const line of d.stderr) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    t.same(Object.keys(entry), ['time', 'level', 'msg'], line);
    t.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    t.ok(['debug', 'info', 'warn', 'error'].includes(entry.level as string));
  }
  const messages = d.stderr.map((l) => (JSON.parse(l) as { msg: string }).msg);
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  t.ok(messages.includes(`loncapad ${version} ready: oj on 127.0.76.2:${PEER_PORT}, no web server, 1 host(s), 0 spooled message(s)`));
  t.equal(messages.at(-1), 'stopped');
});

t.test('unknown settings are named by where they came from', async (t) => {
  const dir = t.testdir({ 'c.json': JSON.stringify({ prot: 1, spool: 'x' }), 'ok.json': JSON.stringify({ httpPort: 0 }) });
  t.same(await runCli(['start', '--spool', dir], '', { LONCAPAD_HTTP_PROT: '1' }), {
    code: 1,
    stdout: '',
    stderr: 'loncapad: unknown environment variable LONCAPAD_HTTP_PROT (did you mean LONCAPAD_HTTP_PORT?)\n',
  });
  const file = join(dir, 'c.json');
  t.same(await runCli(['start', '--config', file]), { code: 1, stdout: '', stderr: `loncapad: ${file}: unknown key "prot" (did you mean "port"?)\n` });
  t.same(await runCli(['start', '--spool', dir], '', { LONCAPAD_CONFIG: file }), {
    code: 1,
    stdout: '',
    stderr: `loncapad: ${file}: unknown key "prot" (did you mean "port"?)\n`,
  }, 'the file named by LONCAPAD_CONFIG too');
  t.same(await runCli(['start', '--spool', dir, '--bogus', '1']), { code: 1, stdout: '', stderr: 'loncapad: Unknown argument: bogus (--help lists them)\n' });
});

t.test('a port in use names the setting to change', async (t) => {
  const web = webPort(18760);
  const net = await makeNetwork(t, [{ id: 'op', ip: '127.0.76.3' }]);
  await net.start('op', ['--http-port', String(web)]);
  const dir = shortTempDir(t);
  const peer = await runCli(['start', '--spool', join(dir, 'a'), '--ip', '127.0.76.3', '--port', String(PEER_PORT), '--http-port', '0']);
  t.equal(peer.code, 1);
  t.equal(
    peer.stderr.trimEnd().split('\n').at(-1),
    `loncapad: 127.0.76.3:${PEER_PORT} (the peer port) is already in use by another program or another loncapad: change --port, or stop the other one`,
  );
  const http = await runCli(['start', '--spool', join(dir, 'b'), '--ip', '127.0.76.3', '--port', String(PEER_PORT + 1), '--http-port', String(web)]);
  t.equal(http.code, 1);
  t.equal(
    http.stderr.trimEnd().split('\n').at(-1),
    `loncapad: 127.0.76.3:${web} (the web port) is already in use by another program or another loncapad: change --http-port, or stop the other one`,
  );
});

t.test('status --wait answers once a daemon started in the background is ready', async (t) => {
  const spool = join(shortTempDir(t), 's');
  const proc = spawn(process.execPath, [BIN, 'start', '--spool', spool, '--ip', '127.0.76.4', '--port', String(PEER_PORT), '--http-port', '0'], {
    stdio: 'ignore',
  });
  const exited = new Promise((r) => proc.once('exit', r));
  t.teardown(async () => {
    proc.kill();
    await exited;
  });
  const s = await runCli(['status', '--spool', spool, '--wait', '30', '--json']);
  t.equal(s.code, 0, s.stderr);
  t.match(JSON.parse(s.stdout), { hostId: 'local', ready: true, ip: '127.0.76.4', port: PEER_PORT });
  const nobody = await runCli(['status', '--spool', join(spool, 'none'), '--wait', '0.2']);
  t.equal(nobody.code, 2, 'no daemon came: exit 2 as without --wait');
  t.match(nobody.stderr, /^loncapad: loncapad is not running/);
});

t.test('spool hold and its siblings print a line; JSON only with --json', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'oh', ip: '127.0.76.5' },
    { id: 'ogone', ip: '127.0.76.6' },
  ]);
  const d = await net.start('oh');
  t.same((await d.status()).walSyncs, { spool: { syncs: 0, seconds: 0 }, store: { syncs: 0, seconds: 0 } }, 'no durable commit yet');
  t.equal(await d.call('ogone', 'log:d1:amy:one', { critical: true }), 'con_delayed');
  const spool = ['--spool', d.host.spool];
  const synced = (await d.status()).walSyncs;
  t.equal(synced.spool.syncs, 1, 'the spooled message: one sync of the spool WAL before con_delayed');
  t.ok(synced.spool.seconds > 0, 'and its time');
  t.equal(synced.store.syncs, 0);
  const human = await runCli(['status', ...spool]);
  t.match(human.stdout, /\ndurable commits: spool 1 sync of the WAL, \d+\.\d\d ms each on average; store no sync yet\n/);
  t.same(await runCli(['spool', 'hold', 'ogone', ...spool]), { code: 0, stdout: 'held 1 message (not replayed until released)\n', stderr: '' });
  t.same(await runCli(['spool', 'release', 'ogone', ...spool, '--json']), { code: 0, stdout: '{"changed":1}\n', stderr: '' });
  t.same(await runCli(['spool', 'hold', 'nobody', ...spool]), { code: 0, stdout: 'held 0 messages (not replayed until released)\n', stderr: '' });
  t.same(await runCli(['spool', 'release', 'ogone', ...spool]), { code: 0, stdout: 'released 1 message\n', stderr: '' });
  t.same(await runCli(['spool', 'delete', 'ogone', ...spool]), { code: 0, stdout: 'deleted 1 message\n', stderr: '' });
});

t.test('the process title', async (t) => {
  t.equal(daemonTitle({ hostId: 'msul1', up: 3, dead: 1, spooled: 12 }, 200), 'loncapad msul1: 3 up, 1 dead, 12 spooled');
  t.equal(daemonTitle({ hostId: 'msul1', up: 3, dead: 1, spooled: 12 }, 30), 'loncapad msul1 3u 1d 12s', 'compact where the full one does not fit');
  t.equal(fitTitle('a long one', 'short one', 5), 'short', 'cut only as a last resort');

  t.test('under bin/loncapad-start (npm start), in full', { skip: existsSync('/proc/self/cmdline') ? false : 'no /proc here' }, async (t) => {
    const spool = join(shortTempDir(t), 's');
    // The shortest command line: what `npm start` runs, plus only the settings this test needs.
    const proc = spawn('sh', [join(ROOT, 'bin/loncapad-start'), '--spool', spool, '--ip', '127.0.76.7', '--port', String(PEER_PORT), '--http-port', '0'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise((r) => proc.once('exit', r));
    t.teardown(async () => {
      proc.kill();
      await exited;
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    await waitFor('ready', () => out.includes('ready '));
    const title = readFileSync(`/proc/${proc.pid}/cmdline`, 'latin1').replace(/\0+$/, '');
    t.equal(title, 'loncapad local: 0 up, 0 dead, 0 spooled');
  });
});

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;
const systemUnits = '/usr/lib/systemd/system';

t.test(
  'systemd-analyze verify accepts docs/systemd/loncapad.service',
  { skip: !analyze ? 'systemd-analyze not installed (Debian package systemd)' : !existsSync(systemUnits) ? `no ${systemUnits} to verify against` : false },
  async (t) => {
    // A root holding what the unit names (the launcher where the unit expects it, /bin/kill) and the system's own units.
    const root = t.testdir();
    for (const dir of ['opt/loncapad/bin', 'bin', 'etc/systemd/system', 'usr/lib/systemd']) mkdirSync(join(root, dir), { recursive: true });
    cpSync(join(ROOT, 'bin/loncapad-start'), join(root, 'opt/loncapad/bin/loncapad-start'));
    cpSync('/bin/kill', join(root, 'bin/kill'));
    cpSync(systemUnits, join(root, 'usr/lib/systemd/system'), { recursive: true });
    const unit = join(root, 'etc/systemd/system/loncapad.service');
    writeFileSync(unit, readFileSync(join(ROOT, 'docs/systemd/loncapad.service')));
    const r = spawnSync('systemd-analyze', [`--root=${root}`, 'verify', unit], { encoding: 'utf8' });
    t.same({ status: r.status, stdout: r.stdout, stderr: r.stderr }, { status: 0, stdout: '', stderr: '' });
    const text = readFileSync(unit, 'utf8');
    for (const line of [
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'ReadWritePaths=/var/lib/loncapad',
      'PrivateTmp=yes',
      'ProtectHome=yes',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'Restart=on-failure',
      'User=loncapad',
    ]) {
      t.ok(text.split('\n').includes(line), line);
    }
  },
);
