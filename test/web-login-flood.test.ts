/**
 * Failed web logins, against real daemons: an access server whose users
 * live on a library server, both serving static files.
 *
 * The incident this guards against: hundreds of anonymous guesses at the
 * access server's login page, 50 at a time, each costing a 32 MiB scrypt at
 * the home server, starved the home's web server for ~20 s (scrypt and file
 * lookups share libuv's thread pool). Now the throttle answers 429 before
 * any network request, and the home only ever checks what it admitted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { cookiesOf, http, type HttpReply } from './helpers/http';
import { makeNetwork, type Daemon, type Network } from './helpers/network';
import { webPort } from './helpers/network';
import { waitFor } from './helpers/wait';

const WEB_PORT = webPort(18400);
const ACC = '127.0.40.2';
const LIB = '127.0.40.3';
const ACC_SLOW = '127.0.40.4';
const ATTACKER = '127.0.40.10';
const STUDENT = '127.0.40.11';
/** A static file must be served within this long, flood or not. */
const PROBE_DEADLINE_MS = 5_000;
const FLOOD_REQUESTS = 300;
const FLOOD_CONCURRENCY = 50;
/** The access server's limit per address; its lockout outlasts the test, so nothing drains meanwhile. */
const FAILURES_PER_IP = 20;
const PASSWORDS = { alice: 'alice: the real one', bob: 'bob: the real one' };

/** `auth` commands the home server has run (it logs each at debug level, redacted). */
function authsRunOn(home: Daemon): number {
  return home.stderr.filter((l) => / debug run auth:<redacted> for acc$/.test(l)).length;
}

async function startNetwork(t: tap.Test): Promise<{ net: Network; acc: Daemon; lib: Daemon }> {
  const net = await makeNetwork(t, [
    { id: 'acc', ip: ACC, role: 'access' },
    { id: 'lib', ip: LIB, role: 'library' },
    { id: 'slow', ip: ACC_SLOW, role: 'access' },
  ]);
  for (const id of ['acc', 'lib']) {
    const www = join(net.dir, id, 'site', 'www');
    mkdirSync(www, { recursive: true });
    writeFileSync(join(www, 'probe.txt'), `probe ${id}\n`);
  }
  const acc = await net.start('acc', [
    '--http-port', String(WEB_PORT),
    '--login-failures-per-ip', String(FAILURES_PER_IP),
    '--login-lockout-ms', '3600000',
    // The home's password checks (scrypt, two at a time) queue up under the flood; with the tests'
    // 3 s request deadline a loaded machine answered a few guesses 503 (home unreachable) instead.
    '--request-timeout-ms', '30000',
  ]);
  // acc creates the users on lib, which only a manager may do from an access server.
  const lib = await net.start('lib', ['--http-port', String(WEB_PORT), '--log-level', 'debug', '--managers', 'acc']);
  const c = await acc.client();
  t.teardown(() => c.close());
  for (const [user, password] of Object.entries(PASSWORDS)) await new Lonnet(c).makeuser('lib', 'd1', user, 'internal', password);
  return { net, acc, lib };
}

function login(host: string, from: string, user: string, password: string): Promise<HttpReply> {
  return http(host, WEB_PORT, '/login/', { form: { user, domain: 'd1', password }, localAddress: from });
}

t.test('a login flood is throttled; static files stay served; the student still logs in', async (t) => {
  const { acc, lib } = await startNetwork(t);

  t.test('300 guesses from one address, 50 at a time', async (t) => {
    const guesses = Array.from({ length: FLOOD_REQUESTS }, (_, i) =>
      i % 3 === 0 ? 'alice' : i % 3 === 1 ? 'bob' : `nobody${i}`,
    );
    const replies: Array<{ user: string; reply: HttpReply }> = [];
    let next = 0;
    const attacker = async (): Promise<void> => {
      while (next < guesses.length) {
        const user = guesses[next++]!;
        replies.push({ user, reply: await login(ACC, ATTACKER, user, `guess ${next}`) });
      }
    };
    const flood = Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, attacker));
    let flooding = true;
    void flood.finally(() => (flooding = false));

    const probes: string[] = [];
    const probe = async (host: string, id: string): Promise<void> => {
      const r = await http(host, WEB_PORT, '/probe.txt', { timeoutMs: PROBE_DEADLINE_MS }).catch((err: Error) => err);
      probes.push(r instanceof Error ? `${id}: ${r.message}` : `${id}: ${r.status} ${r.body}`);
    };
    do await Promise.all([probe(ACC, 'acc'), probe(LIB, 'lib')]);
    while (flooding);
    await flood;

    t.same(
      [...new Set(probes)].sort(),
      ['acc: 200 probe acc\n', 'lib: 200 probe lib\n'],
      `static files on both servers served within ${PROBE_DEADLINE_MS} ms throughout (${probes.length} requests)`,
    );
    const checked = replies.filter(({ reply }) => reply.status === 200);
    const throttled = replies.filter(({ reply }) => reply.status === 429);
    t.equal(checked.length + throttled.length, FLOOD_REQUESTS, 'every guess answered 200 (checked, wrong) or 429 (refused)');
    t.equal(checked.length, FAILURES_PER_IP, 'only as many guesses checked as one address may fail');
    t.ok(checked.every(({ reply }) => reply.body.includes('Unknown user, domain or password.')));
    const isClearRefusal = (reply: HttpReply): boolean =>
      /^[1-9][0-9]*$/.test(String(reply.headers['retry-after'])) &&
      String(reply.headers['content-type']).startsWith('text/html') &&
      /Too many failed logins (for this account )?from your address\. Please wait \d+ (seconds?|minutes) before trying again\./.test(reply.body);
    t.same(
      throttled.filter(({ reply }) => !isClearRefusal(reply)),
      [],
      'each refusal: the login page saying how long to wait, and Retry-After in seconds',
    );
    const checkedAtHome = checked.filter(({ user }) => user === 'alice' || user === 'bob').length;
    await waitFor('the home server to log its auth commands', () => authsRunOn(lib) >= checkedAtHome);
    t.equal(authsRunOn(lib), checkedAtHome, 'the home ran auth only for the guesses admitted (no unknown user costs it one)');

    const lockedOut = await login(ACC, ATTACKER, 'alice', PASSWORDS.alice);
    t.equal(lockedOut.status, 429, 'the flooding address stays refused, even with the right password');
    t.equal(authsRunOn(lib), checkedAtHome, 'and that cost the home nothing');
  });

  t.test('the real alice, from her own address, logs in at once', async (t) => {
    const before = authsRunOn(lib);
    const student = await login(ACC, STUDENT, 'alice', PASSWORDS.alice);
    t.equal(student.status, 302);
    t.match(cookiesOf(student), /^lc_session=v2\./);
    await waitFor('her auth on the home', () => authsRunOn(lib) > before);
    t.equal(authsRunOn(lib), before + 1);
  });

  t.test('each failure logged with account and address, the flood summarised', async (t) => {
    await acc.stop();
    // Its last line: everything logged before it has been read too.
    await acc.waitForLog(/ info stopped$/);
    const failures = (l: string) => l.includes(`web login failed for`) && l.includes(` from ${ATTACKER}: `);
    const lines = acc.stderr.filter(failures);
    t.ok(lines.length > 0 && lines.length <= 10, `a few lines one by one (${lines.length})`);
    t.ok(lines.every((l) => /web login failed for (alice|bob|nobody\d+):d1 from 127\.0\.40\.10: /.test(l)), 'each with account and address');
    const summaries = acc.stderr
      .map((l) => new RegExp(`web login: (\\d+) more failed logins from ${ATTACKER.replace(/\./g, '\\.')} in the last minute \\(last: [a-z0-9]+:d1\\)$`).exec(l))
      .filter((m) => m !== null);
    t.ok(summaries.length >= 1, 'the rest in a summary line');
    const summarised = summaries.reduce((n, m) => n + Number(m[1]), 0);
    t.equal(lines.length + summarised, FLOOD_REQUESTS + 1, 'every failed attempt counted once: the flood and the locked-out login');
    t.notOk(acc.stderr.some((l) => l.includes('guess ') || l.includes('the real one')), 'no password reaches the log');
    t.notOk(acc.stderr.some((l) => l.includes(`failed for alice:d1 from ${STUDENT}`)), 'her successful login is no failure');
  });
});

t.test('one address guessing one account waits longer each time, then is refused', async (t) => {
  const { net } = await startNetwork(t);
  const slow = await net.start('slow', [
    '--http-port', String(WEB_PORT),
    '--login-failures-per-account', '3',
    '--login-delay-ms', '600000',
  ]);
  const guess = (from: string, password: string) => login(ACC_SLOW, from, 'alice', password);
  t.equal((await guess(ATTACKER, 'one')).status, 200, 'a first wrong password: checked');
  t.equal((await guess(ATTACKER, 'two')).status, 200, 'a second one too: the first failure is a typo');
  const third = await guess(ATTACKER, 'three');
  t.equal(third.status, 429, 'the third must wait after the second failure');
  t.ok(Number(third.headers['retry-after']) > 0 && Number(third.headers['retry-after']) <= 600, 'for up to --login-delay-ms');
  t.match(third.body, 'Too many failed logins for this account from your address.', 'the login page says why');
  t.equal((await guess(ATTACKER, PASSWORDS.alice)).status, 429, 'the right password waits too: it is not checked');
  t.equal((await guess(STUDENT, PASSWORDS.alice)).status, 302, 'her own address is not held up');
  const logged = await slow.waitForLog(/web login failed for alice:d1 from 127\.0\.40\.10: refused for \d+ s \(too many failures from this address for this account\)$/);
  t.ok(logged, 'the refusal is logged with account and address');
});
