/**
 * The web processor inside real daemons: login on an access server for a
 * user whose home is a library server (homeServer + auth over the network),
 * a protected package mounted and granted live with `loncapad site`, logout,
 * `userload`, and the 503 when the home server cannot be reached.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { runCli } from './helpers/cli';
import { cookiesOf, http } from './helpers/http';
import { makeNetwork, webPort } from './helpers/network';

const WEB_PORT = webPort(18080);

t.test('login through the network, protected pages, live site map', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'acc', ip: '127.0.12.2', role: 'access' },
    { id: 'lib', ip: '127.0.12.3', role: 'library' },
  ]);
  const site = join(net.dir, 'acc', 'site');
  mkdirSync(join(site, 'packages', 'notes', 'www'), { recursive: true });
  writeFileSync(join(site, 'packages', 'notes', 'www', 'index.html'), '<p>private notes</p>\n');
  const a = await net.start('acc', ['--http-port', String(WEB_PORT), '--user-load-limit', '10']);
  let b = await net.start('lib');
  const c = await a.client();
  t.teardown(() => c.close());
  // Users are made on their home server by its operator (an access server may not: docs/commands.md, Access).
  const admin = await b.client();
  t.equal(await new Lonnet(admin).makeuser('.', 'd1', 'amy', 'internal', 'pa ss:w&rd'), undefined);
  t.equal(await new Lonnet(admin).makeuser('.', 'd1', 'bob', 'internal', 'bobs'), undefined);
  await admin.close();

  const get = (path: string, cookie?: string) => http('127.0.12.2', WEB_PORT, path, cookie ? { cookie } : {});
  t.equal((await get('/notes/')).status, 404, 'nothing mounted there yet');

  const mount = await runCli(['site', 'mount', '/notes/', 'notes', '--no-inherit', '--spool', a.host.spool]);
  t.equal(mount.code, 0, mount.stderr);
  const grant = await runCli(['site', 'grant', '/notes/', 'registered', 'read', '--spool', a.host.spool]);
  t.equal(grant.code, 0, grant.stderr);
  const list = await runCli(['site', 'list', '--spool', a.host.spool]);
  t.match(list.stdout, /\/notes\/\s+notes\s+yes\s+no\s+registered:read/);

  const anon = await get('/notes/?x=1');
  t.equal(anon.status, 302, 'anonymous: to the login page');
  t.equal(anon.headers.location, '/login/?return_url=%2Fnotes%2F%3Fx%3D1');

  const wrong = await http('127.0.12.2', WEB_PORT, '/login/', { form: { user: 'amy', domain: 'd1', password: 'nope', return_url: '/notes/' } });
  t.equal(wrong.status, 200);
  t.match(wrong.body, /Unknown user, domain or password/);
  const nobody = await http('127.0.12.2', WEB_PORT, '/login/', { form: { user: 'zed', domain: 'd1', password: 'nope', return_url: '/notes/' } });
  t.equal(nobody.body, wrong.body, 'an unknown user looks the same as a wrong password');

  const form = { user: 'amy', domain: 'd1', password: 'pa ss:w&rd', return_url: '/notes/?x=1' };
  const csrf = await http('127.0.12.2', WEB_PORT, '/login/', { form, headers: { Origin: 'http://evil.example' } });
  t.equal(csrf.status, 403, "another site's form cannot log anyone in");
  t.equal(csrf.headers['set-cookie'], undefined);
  t.equal((await http('127.0.12.2', WEB_PORT, '/login/', { form, headers: { Origin: 'null' } })).status, 403);
  const login = await http('127.0.12.2', WEB_PORT, '/login/', { form, headers: { Origin: `http://127.0.12.2:${WEB_PORT}` } });
  t.equal(login.status, 302);
  t.equal(login.headers.location, '/notes/?x=1');
  const cookie = cookiesOf(login);
  const page = await get('/notes/', cookie);
  t.equal(page.status, 200);
  t.equal(page.body, '<p>private notes</p>\n');
  t.equal(await a.call('acc', 'userload'), '10', 'one active session of a limit of 10');
  t.notOk(a.stderr.some((l) => l.includes('pa ss')), 'the password never reaches the log');

  const revoke = await runCli(['site', 'revoke', '/notes/', 'registered', 'read', '--spool', a.host.spool]);
  t.equal(revoke.code, 0);
  t.equal((await get('/notes/', cookie)).status, 403, 'revoked live: logged in but not allowed');
  await runCli(['site', 'grant', '/notes/', 'amy:d1', 'read', '--spool', a.host.spool]);
  t.equal((await get('/notes/', cookie)).status, 200, 'granted to her alone');

  const logout = await get('/logout/', cookie);
  t.equal(logout.status, 302);
  t.equal((await get('/notes/', cookie)).status, 302, 'the old cookie no longer logs in');

  await b.stop();
  const down = await http('127.0.12.2', WEB_PORT, '/login/', { form: { user: 'amy', domain: 'd1', password: 'pa ss:w&rd' } });
  t.equal(down.status, 503, 'home server unreachable: try again later, not "wrong password"');
  const cold = await http('127.0.12.2', WEB_PORT, '/login/', { form: { user: 'bob', domain: 'd1', password: 'bobs' } });
  t.equal(cold.status, 503, 'also when her home was never looked up: the one server that could not answer may be it');
  b = await net.start('lib');

  const unmount = await runCli(['site', 'unmount', '/notes/', '--spool', a.host.spool]);
  t.equal(unmount.code, 0);
  t.equal((await get('/notes/')).status, 404, 'unmounted live');
  const bad = await runCli(['site', 'mount', '/x/', '../etc', '--spool', a.host.spool]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /bad package key/);
});
