/**
 * The status page and its data, against real daemons: a library server
 * serving the web, a peer that is up, and a peer that is away while critical
 * messages wait for it (then returns and refuses one of them). Admins of /
 * see this host, every link, the spool per peer, the latest problems from
 * the log and the web sessions, on the page and in `/status/data.json`;
 * everybody else is refused.
 */
import t from 'tap';
import { Lonnet } from '../lib';
import { RECENT_ERROR_CHARS, RecentErrors } from '../lib/recent-errors';
import type { StatusPageData } from '../lib/web';
import { runCli } from './helpers/cli';
import { cookiesOf, http, type HttpReply } from './helpers/http';
import { makeNetwork, webPort } from './helpers/network';
import { waitFor } from './helpers/wait';

const WEB_PORT = webPort(18710);
const LIB = '127.0.71.2';
const XHR = { 'X-Requested-With': 'XMLHttpRequest' };

const get = (path: string, cookie?: string, headers: Record<string, string> = {}): Promise<HttpReply> =>
  http(LIB, WEB_PORT, path, { headers, ...(cookie ? { cookie } : {}) });

t.test('recent problems: warnings and errors only, the newest first, bounded', async (t) => {
  const ring = new RecentErrors(3);
  ring.add('info', 'not a problem', 't0');
  for (const n of [1, 2, 3, 4, 5]) ring.add(n % 2 === 0 ? 'error' : 'warn', `problem ${n}`, `t${n}`);
  t.same(ring.list(), [
    { at: 't5', level: 'warn', text: 'problem 5' },
    { at: 't4', level: 'error', text: 'problem 4' },
    { at: 't3', level: 'warn', text: 'problem 3' },
  ]);
  ring.add('error', 'x'.repeat(RECENT_ERROR_CHARS + 100), 't6');
  t.equal(ring.list()[0]!.text, 'x'.repeat(RECENT_ERROR_CHARS) + '…', 'a long line is cut');
  t.equal(ring.list().length, 3);
});

t.test('the status page and /status/data.json', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'lib', ip: LIB, role: 'library' },
    { id: 'acc', ip: '127.0.71.3', role: 'access' },
    { id: 'gone', ip: '127.0.71.4', role: 'library' },
  ]);
  const lib = await net.start('lib', ['--http-port', String(WEB_PORT)]);
  await net.start('acc');
  const c = await lib.client();
  t.teardown(() => c.close());
  const lonnet = new Lonnet(c);
  await lonnet.makeuser('lib', 'd1', 'root', 'internal', 'root pw');
  await lonnet.makeuser('lib', 'd1', 'bob', 'internal', 'bob pw');
  const granted = await runCli(['site', 'grant', '/', 'root:d1', 'admin', '--spool', lib.host.spool]);
  t.equal(granted.code, 0, granted.stderr);
  const login = async (user: string): Promise<string> => {
    const r = await http(LIB, WEB_PORT, '/login/', { form: { user, domain: 'd1', password: `${user} pw` } });
    t.equal(r.status, 302, `${user} logged in`);
    return cookiesOf(r);
  };
  const root = await login('root');
  const bob = await login('bob');
  t.equal(await lib.call('acc', 'ping'), 'acc', 'the link to acc is up');
  // Two critical messages wait for gone: one it will refuse (roles are written by rolesput only), one it will apply.
  t.equal(await lib.call('gone', 'put:d1:amy:roles:x=1', { critical: true }), 'con_delayed');
  t.equal(await lib.call('gone', 'put:d1:amy:grades:hw1=1', { critical: true }), 'con_delayed');
  const data = async (): Promise<StatusPageData> => {
    const r = await get('/status/data.json', root, XHR);
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    return JSON.parse(r.body) as StatusPageData;
  };

  t.test('refused to everybody but admins of /', async (t) => {
    for (const path of ['/status/', '/status/data.json']) {
      const anonymous = await get(path);
      t.equal(anonymous.status, 302, `${path}: anonymous, to the login page`);
      t.equal(anonymous.headers.location, `/login/?return_url=${encodeURIComponent(path)}`);
      t.equal((await get(path, undefined, XHR)).status, 403, `${path}: anonymous script`);
      const user = await get(path, bob, XHR);
      t.equal(user.status, 403, `${path}: a user who is not an admin of /`);
      t.notMatch(user.body, 'gone', 'nothing of the status leaks');
    }
  });

  t.test('the data: this host, its links, the spool per peer, the web', async (t) => {
    const d = await data();
    t.match(d.host, { lonid: 'lib', domain: 'd1', role: 'library', hostname: 'lib.example.org', ip: LIB, domains: ['d1'] });
    t.equal(d.host.pid, lib.proc.pid);
    t.same(d.peers.map((p) => p.peer).sort(), ['acc', 'gone']);
    t.match(d.peers.find((p) => p.peer === 'acc'), { state: 'up', inFlight: 0, queue: 0 });
    t.match(d.peers.find((p) => p.peer === 'gone'), { queue: 2 });
    t.equal(d.spool.length, 1);
    t.match(d.spool[0], { peer: 'gone', depth: 2, aside: 0 });
    t.ok(d.spool[0]!.oldestAgeMs !== null && d.spool[0]!.oldestAgeMs >= 0, 'the age of the oldest message');
    t.same(d.web, { port: WEB_PORT, tls: false, activeSessions: 2, requests: d.web.requests });
    t.ok(Date.parse(d.generatedAt) > 0);
  });

  t.test('gone returns: one message applied, one set aside, and the warning among recent problems', async (t) => {
    await net.start('gone');
    const d = await waitFor('the refused message set aside', async () => {
      const now = await data();
      return now.spool.find((s) => s.peer === 'gone' && s.aside === 1 && s.depth === 0) ? now : undefined;
    });
    const warning = await lib.waitForLog(/ warn spool: #\d+ to gone set aside: refused/);
    const text = warning.slice(warning.indexOf(' warn ') + ' warn '.length);
    const latest = await waitFor('the warning in the data', async () => (await data()).recentErrors.find((e) => e.text === text));
    t.equal(latest.level, 'warn');
    t.match(d.spool, [{ peer: 'gone', depth: 0, aside: 1, oldestAgeMs: null }]);
  });

  t.test('the page, for an admin: the same data as tables, and a script allowed by its nonce only', async (t) => {
    const r = await get('/status/', root);
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    t.match(r.body, '<h1>Status of lib</h1>');
    t.match(r.body, /<dt>Server<\/dt><dd>lib <span class="muted">\(library, domain d1\)<\/span><\/dd>/);
    t.match(r.body, /<table id="peers">[^]*<tr><td>acc<\/td><td><span class="state-up">up<\/span><\/td>/);
    t.match(r.body, /<table id="spool">[^]*<tr><td>gone<\/td><td class="num">0<\/td><td class="num">—<\/td><td class="num">1<\/td><\/tr>/);
    t.match(r.body, /<table id="errors">[^]*<span class="level-warn">warn<\/span><\/td><td>spool: #\d+ to gone set aside: refused/);
    t.match(r.body, '<span id="sessions">2</span> active');
    const csp = String(r.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    t.ok(nonce, `a nonce in ${csp}`);
    t.notMatch(csp, 'unsafe-inline');
    t.match(csp, "connect-src 'self'");
    t.match(csp, "frame-ancestors 'none'");
    t.match(r.body, `<script nonce="${nonce}">`);
    t.equal(r.body.split('<script').length, 2, 'one script, the nonced one');
    t.match(r.body, "fetch('data.json'");
    const again = await get('/status/', root);
    t.not(/nonce-([^']+)/.exec(String(again.headers['content-security-policy']))?.[1], nonce, 'a fresh nonce per response');
  });
});
