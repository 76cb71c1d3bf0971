/**
 * Reliability at the edges, with real daemons: a restarted peer is found at
 * once (its announcement, a probe on demand, a retry window), a data frame in
 * the same read as the handshake's last message is served, a hung peer is
 * detected in every state, a live send and a replay of one message apply it
 * once, a half-closed client is answered, deadlines are validated, and
 * `loncapad call` says with its exit code what became of a request.
 */
import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { connect, escape, MAX_TIMEOUT_MS } from '../lib';
import { loadOrCreateKeys } from '../lib/config';
import { encodeFrame } from '../lib/wire';
import { runCli } from './helpers/cli';
import { startFaultProxy } from './helpers/fault-proxy';
import { activityOf, makeNetwork, PEER_PORT, query, type Daemon } from './helpers/network';
import { handshake, openLines, rawConnect, sealLines } from './helpers/raw-peer';
import { waitFor } from './helpers/wait';

const queued = (spool: string) => query(join(spool, 'spool.sqlite'), 'SELECT seq FROM queue');
const aside = (spool: string) => query(join(spool, 'spool.sqlite'), 'SELECT * FROM aside');
const stateOf = async (d: Daemon, peer: string) => (await d.status()).peers.find((p) => p.peer === peer)!.state;
/** A backoff ceiling so long that only the mechanism under test can bring a link back within a test. */
const NO_CEILING = ['--backoff-ceiling-ms', '600000'];

/** One request and the reply lines after shutting down our side (half-close), as `printf … | socat` does. */
function halfClose(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let out = '';
    sock.setEncoding('utf8').on('data', (s: string) => (out += s));
    sock.on('error', reject);
    sock.on('close', () => resolve(out));
    sock.end(text);
  });
}

t.test('a restarted peer is found within seconds, without reset_retries', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.20.2' },
    { id: 'beta', ip: '127.0.20.3' },
  ]);
  const a = await net.start('alpha', NO_CEILING);
  let b = await net.start('beta');
  t.equal(await a.call('beta', 'ping'), 'beta');
  await b.stop();
  for (const m of ['r1', 'r2', 'r3']) t.equal(await a.call('beta', `log:d1:amy:${m}`, { critical: true }), 'con_delayed');
  await waitFor('beta marked dead', async () => (await stateOf(a, 'beta')) === 'dead');

  b = await net.start('beta');
  // Only beta's start-up announcement can revive alpha's link now (the ceiling is ten minutes).
  await a.waitForLog(/retrying beta: it connected to us/);
  await waitFor('the backlog delivered', () => queued(a.host.spool).length === 0);
  t.same(activityOf(b.host.spool), ['r1', 'r2', 'r3'], 'in order, once each');
  t.equal(await a.call('beta', 'ping'), 'beta', 'requests are served again');
  t.same(aside(a.host.spool), []);
});

t.test('a request or a critical message probes a dead link; reset_retries keeps retrying for a while', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'gamma', ip: '127.0.21.2' },
    { id: 'delta', ip: '127.0.21.4' },
  ]);
  // gamma reaches delta through a proxy on .3; delta's own announcements to gamma come from .4 and are refused,
  // so only gamma's own retries can bring the link back.
  const gammaView = net.writeHosts([net.line('gamma'), net.line('delta', '127.0.21.3')], join(net.dir, 'gamma.tab'));
  const proxy = await startFaultProxy({
    listen: { host: '127.0.21.3', port: PEER_PORT },
    upstream: { host: '127.0.21.4', port: PEER_PORT },
    localAddress: '127.0.21.2',
  });
  t.teardown(() => proxy.close());
  const d = await net.start('delta');
  const g = await net.start('gamma', ['--hosts', gammaView, ...NO_CEILING]);
  t.equal(await g.call('delta', 'ping'), 'delta');

  /** Dead, and for longer than the backoff floor (20 ms): a probe may go now. */
  const markDead = async () => {
    await proxy.refuse(true);
    proxy.cut();
    await waitFor('delta marked dead', async () => (await g.call('delta', 'ping', { timeoutMs: 500 })) === 'con_lost' && (await stateOf(g, 'delta')) === 'dead');
    await waitFor('dead for longer than the backoff floor', async () => {
      const s = (await g.status()).peers.find((p) => p.peer === 'delta')!;
      return s.state === 'dead' && Date.now() - Date.parse(s.since) > 100;
    });
  };

  t.test('a non-critical request', async (t) => {
    await markDead();
    await proxy.refuse(false);
    t.equal(await g.call('delta', 'ping'), 'delta', 'the request itself brought the link back');
  });

  t.test('a critical message', async (t) => {
    await markDead();
    await proxy.refuse(false);
    t.equal(await g.call('delta', 'log:d1:amy:probe', { critical: true }), 'ok', 'delivered live, not spooled');
    t.same(activityOf(d.host.spool), ['probe']);
    t.same(queued(g.host.spool), []);
  });

  t.test('reset_retries', async (t) => {
    await markDead();
    t.equal(await g.call('delta', 'reset_retries'), 'ok');
    const retries = async () => (await g.status()).peers.find((p) => p.peer === 'delta')!.retries;
    await waitFor('more failed attempts than dead-after-failures (3)', async () => (await retries()) >= 4);
    t.not(await stateOf(g, 'delta'), 'dead', 'still retrying after four failed attempts');
    await proxy.refuse(false);
    await waitFor('the link up, with no request asking for it', async () => (await stateOf(g, 'delta')) === 'up');
  });

  t.test('a peer that accepts and closes at once (busy) is backed off, never marked dead', async (t) => {
    proxy.busy(true);
    proxy.cut();
    const before = proxy.turnedAway;
    // Requests keep the link trying; each attempt reaches the peer and is turned away.
    await waitFor('more turned-away attempts than dead-after-failures (3)', async () => {
      await g.call('delta', 'ping', { timeoutMs: 200 });
      return proxy.turnedAway - before >= 5;
    });
    t.not(await stateOf(g, 'delta'), 'dead', 'a busy peer is not dead');
    await g.waitForLog(/link delta: .* → backoff \(attempt \d+ failed: the peer closed the connection before answering \(busy\?\)\)/);
    proxy.busy(false);
    await waitFor('served again', async () => (await g.call('delta', 'ping')) === 'delta');
  });
});

t.test('a data frame in the same read as the handshake is served', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'eps', ip: '127.0.22.2' },
    { id: 'zeta', ip: '127.0.22.4' },
  ]);

  t.test('Finish and a large first frame in one write', async (t) => {
    const z = await net.start('zeta');
    const epsKeys = loadOrCreateKeys(join(net.dir, 'eps'));
    const zetaKey = Buffer.from(net.hosts.get('zeta')!.publicKey, 'base64');
    const p = await rawConnect('127.0.22.2', '127.0.22.4', PEER_PORT);
    const value = 'v'.repeat(2000); // far above the 512-byte handshake limit
    const session = await handshake(p, 'eps', 'zeta', epsKeys, zetaKey, (finish, s) =>
      p.sock.write(Buffer.concat([encodeFrame(finish), sealLines(s, [`q 1 put:d1:amy:ns:k=${value}`])])),
    );
    const reply = await p.nextFrame();
    t.ok(reply, 'answered, not closed');
    t.same(openLines(session, reply!), [JSON.stringify({ kind: 'r', id: 1, reply: 'ok' })]);
    t.equal(await z.call('zeta', 'get:d1:amy:ns:k'), value);
    t.notOk(z.stderr.some((l) => /exceeds 512/.test(l)), 'nothing refused');
    p.sock.destroy();
    await z.stop();
  });

  t.test('a backlog of hundreds replays in order through a proxy that batches bytes every 5 ms', async (t) => {
    const epsView = net.writeHosts([net.line('eps'), net.line('zeta', '127.0.22.3')], join(net.dir, 'eps.tab'));
    const proxy = await startFaultProxy({
      listen: { host: '127.0.22.3', port: PEER_PORT },
      upstream: { host: '127.0.22.4', port: PEER_PORT },
      localAddress: '127.0.22.2',
    });
    t.teardown(() => proxy.close());
    proxy.batch(5);
    const e = await net.start('eps', ['--hosts', epsView]);
    const c = await e.client();
    const texts = Array.from({ length: 300 }, (_, i) => `b${i}`);
    const replies = await Promise.all(texts.map((m) => c.critical('zeta', `log:d1:amy:${m}`)));
    await c.close();
    t.same([...new Set(replies)], ['con_delayed']);
    const z = await net.start('zeta');
    t.equal(await e.call('zeta', 'reset_retries'), 'ok'); // zeta's announcement cannot reach eps through the proxy
    await waitFor('the backlog delivered', () => queued(e.host.spool).length === 0, { timeoutMs: 20_000 });
    t.same(activityOf(z.host.spool).slice(-300), texts, 'all 300, in order, once each');
    t.same(aside(e.host.spool), []);
    t.notOk(z.stderr.some((l) => /exceeds 512/.test(l)), 'no link refused');
  });
});

t.test('a hung peer is detected in every state', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'eta', ip: '127.0.23.2' },
    { id: 'theta', ip: '127.0.23.3' },
  ]);

  t.test('closing for idleness while the peer is stopped', async (t) => {
    const a = await net.start('eta', ['--idle-timeout-ms', '300', '--ping-interval-ms', '60000', '--ping-timeout-ms', '400']);
    const b = await net.start('theta');
    t.equal(await a.call('theta', 'ping'), 'theta');
    b.proc.kill('SIGSTOP');
    t.teardown(() => b.proc.kill('SIGCONT'));
    await waitFor('the link is no longer up', async () => (await stateOf(a, 'theta')) !== 'up', { timeoutMs: 5_000 });
    await a.waitForLog(/link theta: the peer did not finish closing in 400 ms; dropping it/);
    b.proc.kill('SIGCONT');
    t.equal(await a.call('theta', 'ping'), 'theta', 'the next request opens a new link');
    await a.stop();
    await b.stop();
  });

  t.test('an initiator that stops sending, even keep-alives', async (t) => {
    const b = await net.start('theta', ['--ping-interval-ms', '200', '--ping-timeout-ms', '200']);
    const a = await net.start('eta');
    t.equal(await a.call('theta', 'ping'), 'theta');
    a.proc.kill('SIGSTOP');
    t.teardown(() => a.proc.kill('SIGCONT'));
    await b.waitForLog(/inbound link from eta: ping-timeout: nothing received for 600 ms/);
    a.proc.kill('SIGCONT');
    await a.stop();
    await b.stop();
  });

  t.test('an authenticated peer that parks a partial frame', async (t) => {
    const b = await net.start('theta', ['--ping-timeout-ms', '200']);
    const etaKeys = loadOrCreateKeys(join(net.dir, 'eta'));
    const thetaKey = Buffer.from(net.hosts.get('theta')!.publicKey, 'base64');
    const p = await rawConnect('127.0.23.2', '127.0.23.3', PEER_PORT);
    await handshake(p, 'eta', 'theta', etaKeys, thetaKey);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(16 * 1024 * 1024);
    p.sock.write(Buffer.concat([head, Buffer.alloc(1024 * 1024)]));
    await p.closed;
    await b.waitForLog(/inbound link from eta: frame-timeout: a frame begun long ago never finished/);
    t.equal(await b.call('theta', 'ping'), 'theta', 'still serving');
    await b.stop();
  });

  t.test('a second session of the same peer replaces the first', async (t) => {
    const b = await net.start('theta');
    const etaKeys = loadOrCreateKeys(join(net.dir, 'eta'));
    const thetaKey = Buffer.from(net.hosts.get('theta')!.publicKey, 'base64');
    const first = await rawConnect('127.0.23.2', '127.0.23.3', PEER_PORT);
    await handshake(first, 'eta', 'theta', etaKeys, thetaKey);
    const second = await rawConnect('127.0.23.2', '127.0.23.3', PEER_PORT);
    const s2 = await handshake(second, 'eta', 'theta', etaKeys, thetaKey);
    await first.closed;
    await b.waitForLog(/inbound link from eta closed \(replaced\)/);
    second.sock.write(sealLines(s2, ['q 1 ping']));
    t.same(openLines(s2, (await second.nextFrame())!), [JSON.stringify({ kind: 'r', id: 1, reply: 'theta' })], 'the newer one serves');
    second.sock.destroy();
    await b.stop();
  });
});

t.test('a live send and a replay of the same message apply it once', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'iota', ip: '127.0.24.2' },
    { id: 'kappa', ip: '127.0.24.3' },
  ]);
  const a = await net.start('iota');
  const b = await net.start('kappa');
  const c = await b.client();
  const pairs = Array.from({ length: 60_000 }, (_, i) => `k${i}=${i}`);
  for (let i = 0; i < pairs.length; i += 5_000) t.equal(await c.reply('.', `put:d1:amy:big:${pairs.slice(i, i + 5_000).join('&')}`), 'ok');
  await c.close();
  t.equal(await a.call('kappa', 'ping'), 'kappa', 'the link is up');
  // The deadline passes long before the dump ends: the message is spooled and
  // replayed while the first run is still going on kappa.
  t.equal(await a.call('kappa', 'dump:d1:amy:big:^k1', { critical: true, timeoutMs: 1 }), 'con_delayed');
  await waitFor('the replay acknowledged', () => queued(a.host.spool).length === 0);
  await b.waitForLog(/is running already; answering with its reply/);
  t.same(aside(a.host.spool), [], 'nothing set aside');
  t.equal(query(join(b.host.spool, 'data.sqlite'), 'SELECT 1 FROM applied').length, 1, 'one record of it');
  t.notOk(b.stderr.some((l) => /UNIQUE|unhandled/i.test(l)), 'no failed record, no unhandled rejection');
});

t.test('a client that half-closes is answered', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'lam', ip: '127.0.25.2' },
    { id: 'mu', ip: '127.0.25.3' },
  ]);
  const a = await net.start('lam');
  await net.start('mu');
  t.equal(await halfClose(join(a.host.spool, 'sock', 'mu'), 'ping\nping\n'), 'mu\nmu\n', 'classic socket, remote peer, two requests');
  const mux = await halfClose(join(a.host.spool, 'loncapad.sock'), '1 r 0 mu ping\n2 r 0 mu pong\n');
  t.same(mux.split('\n').slice(1).sort(), ['', '1 mu', '2 mu:lam'], 'multiplexed socket: every request read before the FIN');
  let socat = true;
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
  } catch {
    socat = false;
  }
  if (!socat) t.comment('socat is not installed: skipping the socat half-close check (.ci/run installs it)');
  else {
    const out = execFileSync('sh', ['-c', `printf 'ping\\n' | socat - UNIX-CONNECT:${join(a.host.spool, 'sock', 'mu')}`], { encoding: 'utf8' });
    t.equal(out, 'mu\n', "printf 'ping\\n' | socat - UNIX-CONNECT:SPOOL/sock/mu");
  }
});

t.test('deadlines are validated; 0 means the daemon default on both sides', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'nu', ip: '127.0.26.2' },
    { id: 'xi', ip: '127.0.26.3' },
  ]);
  const a = await net.start('nu', ['--request-timeout-ms', '3500', '--ping-interval-ms', '60000']);
  const b = await net.start('xi');
  const mux = await halfClose(join(a.host.spool, 'loncapad.sock'), `1 r ${MAX_TIMEOUT_MS + 1} xi ping\n2 c 9999999999 xi log:d1:amy:x\n3 r ${MAX_TIMEOUT_MS} xi ping\n`);
  t.same(mux.split('\n').slice(1).sort(), [
    '',
    `1 error:timeout above ${MAX_TIMEOUT_MS} ms`,
    `2 error:timeout above ${MAX_TIMEOUT_MS} ms`,
    '3 xi',
  ]);
  t.same(queued(a.host.spool), [], 'the refused critical was not spooled');
  const c = await connect({ spool: a.host.spool });
  t.teardown(() => c.close());
  t.same(c.greeting, { version: '0.1.0', replyTimeoutMs: 3500, criticalTimeoutMs: 3000 }, 'the daemon tells its defaults');
  await t.rejects(c.reply('xi', 'ping', { timeoutMs: MAX_TIMEOUT_MS + 1 }), { code: 'LC_ERR_BAD_ARGS' });
  await t.rejects(c.reply('xi', 'ping', { timeoutMs: -1 }), { code: 'LC_ERR_BAD_ARGS' });
  t.equal(await c.reply('xi', 'ping'), 'xi');
  b.proc.kill('SIGSTOP');
  t.teardown(() => b.proc.kill('SIGCONT'));
  // The client must wait the daemon's 3.5 s (not its own 2 s grace) and hear the daemon's answer.
  t.equal(await c.reply('xi', 'ping', { timeoutMs: 0 }), 'con_lost');
  b.proc.kill('SIGCONT');
  const bad = await runCli(['call', '--spool', a.host.spool, '--timeout', String(MAX_TIMEOUT_MS + 1), 'xi', 'ping']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /--timeout must be a whole number of ms from 1 to 86400000/);
});

t.test('loncapad call exit codes', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'omi', ip: '127.0.27.2' },
    { id: 'pi', ip: '127.0.27.3' },
    { id: 'rho', ip: '127.0.27.4' },
  ]);
  const a = await net.start('omi');
  await net.start('pi');
  const call = (...args: string[]) => runCli(['call', '--spool', a.host.spool, ...args]);
  const cases: Array<[string[], string, number]> = [
    [['pi', 'ping'], 'pi', 0],
    [['.', 'ping'], 'omi', 0],
    [['--critical', 'rho', `log:d1:amy:${escape('x y')}`], 'con_delayed', 3],
    [['rho', 'ping'], 'con_lost', 4],
    [['nowhere', 'ping'], 'no_such_host', 4],
    [['pi', 'frobnicate'], 'unknown_cmd', 5],
    [['pi', 'put:d1:amy'], 'error:put needs 4 arguments', 5],
  ];
  for (const [args, reply, code] of cases) {
    const r = await call(...args);
    t.same({ stdout: r.stdout, code: r.code }, { stdout: reply + '\n', code }, args.join(' '));
  }
  const help = await runCli(['call', '--help']);
  t.match(help.stdout, /3 con_delayed/);
});
