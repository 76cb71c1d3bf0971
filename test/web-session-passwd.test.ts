/**
 * A password change ends the user's other web sessions, against real
 * daemons: two access servers and her home (a library server). Each session
 * cookie carries her auth token from login; the home replaces the token on
 * `changeuserauth` and `passwd`; an access server asks the home for the
 * current one (cached for --session-check-ttl-ms, forgotten at once when the
 * change passes through that server).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { runCli } from './helpers/cli';
import { cookiesOf, http } from './helpers/http';
import { makeNetwork, webPort, type Daemon } from './helpers/network';
import { waitFor } from './helpers/wait';

const WEB_PORT = webPort(18410);
/** The documented default of --session-check-ttl-ms: how late another access server notices. */
const SESSION_CHECK_TTL_MS = 5_000;

t.test('a password change ends her sessions on every access server', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'acc1', ip: '127.0.41.2', role: 'access' },
    { id: 'acc2', ip: '127.0.41.3', role: 'access' },
    { id: 'lib', ip: '127.0.41.4', role: 'library' },
  ]);
  for (const id of ['acc1', 'acc2']) {
    const www = join(net.dir, id, 'site', 'packages', 'notes', 'www');
    mkdirSync(www, { recursive: true });
    writeFileSync(join(www, 'index.html'), `notes on ${id}\n`);
  }
  // acc1 would trust an answer for an hour: only forgetting it at the change can end her session there at once.
  const acc1 = await net.start('acc1', ['--http-port', String(WEB_PORT), '--session-check-ttl-ms', '3600000']);
  const acc2 = await net.start('acc2', ['--http-port', String(WEB_PORT)]);
  await net.start('lib');
  const c = await acc1.client();
  t.teardown(() => c.close());
  await new Lonnet(c).makeuser('lib', 'd1', 'alice', 'internal', 'first secret');
  for (const acc of [acc1, acc2]) {
    for (const args of [['site', 'mount', '/notes/', 'notes', '--no-inherit'], ['site', 'grant', '/notes/', 'registered', 'read']]) {
      const r = await runCli([...args, '--spool', acc.host.spool]);
      t.equal(r.code, 0, r.stderr);
    }
  }

  const login = async (t: tap.Test, acc: Daemon, password: string): Promise<string> => {
    const r = await http(acc.host.ip, WEB_PORT, '/login/', { form: { user: 'alice', domain: 'd1', password } });
    t.equal(r.status, 302, `logged in on ${acc.host.id}`);
    return cookiesOf(r);
  };
  const notes = (acc: Daemon, cookie: string) => http(acc.host.ip, WEB_PORT, '/notes/', { cookie });
  const passwd = async (t: tap.Test, args: string[], stdin: string): Promise<void> => {
    const r = await runCli(['user', 'passwd', 'alice', 'd1', '--password-stdin', ...args, '--spool', acc1.host.spool], stdin);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'password of alice in d1 changed on lib\n');
  };

  /** Her sessions on both servers, opened with `password`, then ended by `change` made through acc1. */
  const sessionsEndAfter = async (t: tap.Test, password: string, change: () => Promise<void>): Promise<void> => {
    const on1 = await login(t, acc1, password);
    const on2 = await login(t, acc2, password);
    t.equal((await notes(acc1, on1)).body, 'notes on acc1\n');
    t.equal((await notes(acc2, on2)).body, 'notes on acc2\n');
    await change();
    const after = await notes(acc1, on1);
    t.equal(after.status, 302, 'on the server the change went through: at once');
    t.equal(after.headers.location, '/login/?return_url=%2Fnotes%2F');
    t.same(after.headers['set-cookie'], ['lc_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax'], 'the cookie is cleared');
    t.equal((await notes(acc1, on1)).status, 302, 'and the session stays ended');
    const ended = await waitFor(
      `her session on acc2 to end (within --session-check-ttl-ms, ${SESSION_CHECK_TTL_MS} ms)`,
      async () => (await notes(acc2, on2)).status === 302,
      { timeoutMs: SESSION_CHECK_TTL_MS + 5_000 },
    );
    t.equal(ended, true, 'on another access server: within the check interval');
  };

  t.test('an operator resets her password (changeuserauth)', async (t) => {
    await sessionsEndAfter(t, 'first secret', () => passwd(t, [], 'second secret\n'));
    const refused = await http(acc2.host.ip, WEB_PORT, '/login/', { form: { user: 'alice', domain: 'd1', password: 'first secret' } });
    t.match(refused.body, 'Unknown user, domain or password.', 'the old password is gone');
    const fresh = await login(t, acc2, 'second secret');
    t.equal((await notes(acc2, fresh)).status, 200, 'a login with the new password opens a session that stands');
  });

  t.test('she changes it herself (passwd --verify-old)', async (t) => {
    await sessionsEndAfter(t, 'second secret', () => passwd(t, ['--verify-old'], 'second secret\nthird secret\n'));
    t.equal((await notes(acc1, await login(t, acc1, 'third secret'))).status, 200);
  });
});
