/**
 * `loncapad demo` as a person runs it (127.0.77.2–4, the test's own ports):
 * it starts, its printed URLs serve the login page and /metrics, its logins
 * work, the guide's critical write waits while the library server is
 * stopped and arrives when Enter starts it again, and SIGINT stops it and
 * every daemon it printed (no orphan processes).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { http } from './helpers/http';
import { BIN, PEER_PORT, shortTempDir, webPort } from './helpers/network';
import { runCli } from './helpers/cli';
import { waitFor } from './helpers/wait';

const IPS = ['127.0.77.2', '127.0.77.3', '127.0.77.4'];
const WEB = webPort(18770);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('loncapad demo', async (t) => {
  const dir = join(shortTempDir(t), 'demo');
  const demo = spawn(process.execPath, [BIN, 'demo', '--dir', dir, '--ips', IPS.join(','), '--port', String(PEER_PORT), '--http-port', String(WEB)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  demo.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  demo.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (demo.exitCode === null) demo.kill('SIGKILL');
  });

  await waitFor('the guide', () => out.includes('Ctrl-C stops every server'), { timeoutMs: 30_000 });
  t.equal(err, '', 'nothing on stderr');
  const servers = [...out.matchAll(/^ {2}(\w+) +(library|access) +pid (\d+) +(http:\/\/\S+\/)/gm)].map((m) => ({
    id: m[1]!,
    role: m[2]!,
    pid: Number(m[3]),
    url: m[4]!,
  }));
  t.same(
    servers.map((s) => [s.id, s.role, s.url]),
    [
      ['lib1', 'library', `http://127.0.77.2:${WEB}/`],
      ['acc1', 'access', `http://127.0.77.3:${WEB}/`],
      ['acc2', 'access', `http://127.0.77.4:${WEB}/`],
    ],
  );
  const pids = servers.map((s) => s.pid);
  t.ok(pids.every(alive), 'every printed pid runs');
  t.match(out, `state in ${dir}`);

  for (const s of servers) {
    const login = await http(new URL(s.url).hostname, WEB, '/login/');
    t.equal(login.status, 200, `${s.id} serves the login page`);
    const metrics = await http(new URL(s.url).hostname, WEB, '/metrics');
    t.equal(metrics.status, 200, `${s.id} serves /metrics`);
    t.match(metrics.body, `loncapad_build_info{host="${s.id}",version=`);
  }
  t.match(out, `3. The metrics (Prometheus text; open to this machine): curl http://127.0.77.3:${WEB}/metrics`);
  t.match(out, `2. The status page (log in as admin first): http://127.0.77.3:${WEB}/status/`);
  const resourceUrl = `http://127.0.77.3:${WEB}/res/demo/admin/intro/welcome.html`;
  t.match(out, `A published resource, copied from lib1 to acc1 when first read: ${resourceUrl}`);
  const page = await http('127.0.77.3', WEB, '/res/demo/admin/intro/welcome.html');
  t.equal(page.status, 200, 'the published resource is served by the access server');
  t.match(page.body, 'Welcome to the loncapad demo');

  const password = /^ {2}amy +(\S+) /m.exec(out)![1]!;
  const session = await http(IPS[1]!, WEB, '/login/', { form: { user: 'amy', domain: 'demo', password } });
  t.equal(session.status, 302, 'the printed login of amy works on an access server');
  const acc1 = join(dir, 'acc1');
  t.equal((await runCli(['call', '--spool', acc1, 'lib1', 'get:demo:amy:grades:hw1&hw2'])).stdout, '10&7\n', 'her records are there');

  // Step 1 of the guide, as printed.
  const kill = new RegExp(`kill (\\d+) +# stop lib1`).exec(out);
  t.equal(Number(kill![1]), pids[0], 'the guide kills the library server');
  process.kill(pids[0]!, 'SIGTERM');
  await waitFor('the demo notices', () => out.includes('lib1 stopped (exit code 0). Press Enter here to start it again.'));
  const put = /npx loncapad (call --spool \S+ --critical lib1 '(\S+)')/.exec(out)!;
  t.equal(put[2], 'put:demo:amy:grades:hw3=9');
  t.same(await runCli(['call', '--spool', acc1, '--critical', 'lib1', put[2]!]), { code: 3, stdout: 'con_delayed\n', stderr: '' });
  demo.stdin.write('\n');
  const restarted = await waitFor('lib1 started again', () => /lib1 started again \(pid (\d+)\)\./.exec(out));
  pids.push(Number(restarted[1]));
  await waitFor('the spooled write delivered', async () => (await runCli(['call', '--spool', acc1, 'lib1', 'get:demo:amy:grades:hw3'])).stdout === '9\n');

  demo.kill('SIGINT');
  t.equal(await exited, 0);
  t.match(out, `SIGINT: stopped acc1, acc2, lib1. The state stays in ${dir}\n`);
  t.same(pids.filter(alive), [], 'no daemon of the demo is left running');
});
