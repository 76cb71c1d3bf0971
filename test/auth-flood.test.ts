/**
 * A flood of `auth` from a peer: the home server checks at most the
 * throttle's worth of passwords (each an scrypt of 32 MiB on the thread pool
 * it shares with file I/O), answers the rest non_authorized at once, logs
 * each failure once and sums up the repeats, while another peer's logins and
 * requests and the home's own work (a local write, a directory listing on
 * the thread pool) keep being served. Real daemons on 127.0.51.x: the
 * library server home, the access server good, and two hand-made peers,
 * evil and mallory, that speak the wire protocol with their listed keys.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { escape } from '../lib/client/escape';
import type { LoncapadClient } from '../lib';
import { loadOrCreateKeys } from '../lib/config';
import { makeNetwork, PEER_PORT } from './helpers/network';
import { handshake, rawConnect, requestAll } from './helpers/raw-peer';
import { roundsWhile, waitFor } from './helpers/wait';

const LOG_REPEAT_MS = 2000;
const PER_HOST = 30;
const PER_ACCOUNT = 10;
/** A request's deadline while the flood runs: generous for a free server, far below a stalled thread pool's backlog. */
const DEADLINE_MS = 3000;

t.test('auth floods from a peer', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'home', ip: '127.0.51.2', role: 'library' },
    { id: 'evil', ip: '127.0.51.3', role: 'access' },
    { id: 'mallory', ip: '127.0.51.4', role: 'access' },
    { id: 'good', ip: '127.0.51.5', role: 'access' },
  ]);
  const res = join(net.hosts.get('home')!.spool, 'res', 'd1');
  mkdirSync(res, { recursive: true });
  writeFileSync(join(res, 'notes.txt'), 'published\n');
  const home = await net.start('home', [
    '--auth-failures-per-host', String(PER_HOST),
    '--auth-failures-per-account', String(PER_ACCOUNT),
    '--log-repeat-ms', String(LOG_REPEAT_MS),
  ]);
  const good = await net.start('good');
  const local = await home.client();
  const remote = await good.client();
  t.teardown(() => Promise.all([local.close(), remote.close()]));
  t.equal(await local.reply('.', `makeuser:d1:amy:internal:${escape('amy-pw')}`), 'ok');
  t.equal(await local.reply('.', `makeuser:d1:bob:internal:${escape('bob-pw')}`), 'ok');
  t.equal(await local.reply('.', 'put:d1:bob:ns:k=v'), 'ok');

  /** The home's auth lines (without their time), as the operator reads them. */
  const authLines = () => home.stderr.filter((l) => / warn auth /.test(l)).map((l) => l.replace(/^\S+ warn /, ''));
  /** Attempts the log accounts for with lines matching `re`: 1 for a first line, n for `(n more times …)`. */
  const tally = (re: RegExp) =>
    authLines().reduce((n, l) => {
      const m = re.exec(l);
      return m ? n + (m[1] === undefined ? 1 : Number(m[1])) : n;
    }, 0);

  /**
   * While `flood` runs: another peer logs in and asks, the home writes and
   * lists a directory (fs.promises, the thread pool). Every reply, so one
   * late or failed answer fails the test.
   */
  const servedDuring = (flood: Promise<unknown>): Promise<string[]> => {
    const ask = (c: LoncapadClient, peer: string, command: string) =>
      c.reply(peer, command, { timeoutMs: DEADLINE_MS }).catch((err: { code?: string }) => `client gave up (${err.code})`);
    return roundsWhile(flood, async () => {
      const replies = await Promise.all([
        ask(remote, 'home', `auth:d1:bob:${escape('bob-pw')}`),
        ask(remote, 'home', 'ping'),
        ask(remote, 'home', 'get:d1:bob:ns:k'),
        ask(local, '.', 'put:d1:carl:work:n=1'),
        ask(local, '.', 'ls:/res/d1'),
      ]);
      return replies.map((r, i) => (i === 4 ? r.replace(/&[\d&]+$/, '&<stat>') : r)).join(' | ');
    });
  };
  const SERVED = 'authorized | home | v | ok | notes.txt&<stat>';

  const flooder = async (t: Test, id: string, ip: string) => {
    const p = await rawConnect(ip, '127.0.51.2', PEER_PORT);
    t.teardown(() => p.sock.destroy());
    const keys = loadOrCreateKeys(join(net.dir, id));
    return { p, session: await handshake(p, id, 'home', keys, Buffer.from(net.hosts.get('home')!.publicKey, 'base64')) };
  };

  t.test('1000 wrong passwords for one account in one frame', async (t) => {
    const { p, session } = await flooder(t, 'evil', '127.0.51.3');
    const flood = requestAll(p, session, Array.from({ length: 1000 }, (_, i) => `auth:d1:amy:wrong${i}`));
    const rounds = await servedDuring(flood);
    t.same(await flood, Array(1000).fill('non_authorized'));
    t.same(rounds, Array(rounds.length).fill(SERVED), 'the other peer and the home itself were served throughout');
    t.equal(await remote.reply('home', `auth:d1:amy:${escape('amy-pw')}`), 'non_authorized', 'her account is locked for the window, from every host (the documented trade-off)');
    // A key's first attempt of a period is a line of its own, its repeats one summing-up line at the
    // period's end; how the ten slow checks fall into periods depends on the machine's load.
    const failed = /^auth failed for amy in d1 from evil(?: \((\d+) more times? in the last 2 s\))?$/;
    const throttled =
      /^auth throttled for amy in d1 from evil: 10 failed checks of the account in 300000 ms; non_authorized without a check until \S+(?: \((\d+) more times? in the last 2 s\))?$/;
    // Good's line too: it comes through the daemon's stderr, which may trail the reply on its socket.
    const goodLogged = () => authLines().some((l) => l.includes(' from good'));
    await waitFor(
      'every attempt accounted for in the log',
      () => tally(failed) === PER_ACCOUNT && tally(throttled) === 1000 - PER_ACCOUNT && goodLogged(),
      { timeoutMs: 10 * LOG_REPEAT_MS },
    );
    t.equal(tally(failed), PER_ACCOUNT, 'each checked failure logged once or summed up');
    t.equal(tally(throttled), 1000 - PER_ACCOUNT, 'each throttled attempt too');
    t.match(authLines().filter((l) => l.includes(' from good')), [
      /^auth throttled for amy in d1 from good: 10 failed checks of the account in 300000 ms; non_authorized without a check until \S+$/,
    ]);
    const lines = authLines().length;
    t.ok(lines <= 12, `bounded: a 1000-attempt flood made ${lines} log lines, not one per attempt`);
    t.notOk(authLines().some((l) => l.includes('wrong')), 'no password in the log');
  });

  t.test('300 accounts from one peer', async (t) => {
    const before = authLines().length;
    const { p, session } = await flooder(t, 'mallory', '127.0.51.4');
    const flood = requestAll(p, session, Array.from({ length: 300 }, (_, i) => `auth:d1:user${i}:guess`));
    const rounds = await servedDuring(flood);
    t.same(await flood, Array(300).fill('non_authorized'));
    t.same(rounds, Array(rounds.length).fill(SERVED), 'the other peer and the home itself were served throughout');
    const throttled =
      /^auth throttled from mallory \(for user30 in d1\): 30 failed checks from the host in 300000 ms; non_authorized without a check until \S+(?: \((\d+) more times? in the last 2 s\))?$/;
    await waitFor('every attempt accounted for in the log', () => tally(throttled) === 300 - PER_HOST, { timeoutMs: 10 * LOG_REPEAT_MS });
    const lines = authLines().slice(before);
    t.same(
      lines.filter((l) => l.startsWith('auth failed for')).sort(),
      Array.from({ length: PER_HOST }, (_, i) => `auth failed for user${i} in d1 from mallory`).sort(),
      'each checked failure once: as many as the host may fail',
    );
    t.equal(tally(throttled), 300 - PER_HOST, 'each throttled attempt logged once or summed up');
    t.ok(lines.length <= PER_HOST + 4, `bounded: ${lines.length} log lines for 300 attempts`);
  });
});
