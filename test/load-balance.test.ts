/**
 * Load balancing at login between real daemons on 127.0.62.x: `acc` is an
 * access server whose user-load limit is half a session (so one session makes
 * it 200 % busy), `spare` its spare (load limit high, so the machine's own
 * load average never disqualifies it), `lib` the users' home server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { cookiesOf, http } from './helpers/http';
import { makeNetwork, webPort } from './helpers/network';
import { waitFor } from './helpers/wait';

const WEB = webPort(18610);
const ACC_IP = '127.0.62.3';
const SPARE_IP = '127.0.62.4';
const LIB_IP = '127.0.62.2';

t.test('an overloaded access server hands new logins to its spare', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'lib', ip: LIB_IP, role: 'library' },
    { id: 'acc', ip: ACC_IP, role: 'access' },
    { id: 'spare', ip: SPARE_IP, role: 'access' },
  ]);
  const sparesFile = join(net.dir, 'spares.tab');
  writeFileSync(sparesFile, '# spares of acc\nprimary: spare\n');
  const web = ['--http-port', String(WEB), '--host-url-template', 'http://{ip}:{httpPort}'];
  // A high load limit on every host: the test machine's own load average must not decide anything.
  const acc = await net.start('acc', [...web, '--load-limit', '1000', '--user-load-limit', '0.5', '--spares', sparesFile]);
  // The spare checks a session's auth token with her home on every request.
  const spareArgs = [...web, '--load-limit', '1000', '--session-check-ttl-ms', '0'];
  let spare = await net.start('spare', spareArgs);
  const lib = await net.start('lib', web);
  const c = await lib.client();
  t.teardown(() => c.close());
  await new Lonnet(c).makeuser('lib', 'd1', 'amy', 'internal', 'amy pw');
  await new Lonnet(c).makeuser('lib', 'd1', 'bob', 'internal', 'bob pw');
  const login = (user: string, password: string) =>
    http(ACC_IP, WEB, '/login/', { form: { user, domain: 'd1', password, return_url: '/status/' } });

  const first = await login('bob', 'bob pw');
  t.equal(first.status, 302, 'not busy yet: bob logs in here');
  t.equal(first.headers.location, '/status/');
  t.equal(await acc.call('acc', 'userload'), '200', 'one session of a limit of half a session');

  const handed = await login('amy', 'amy pw');
  t.equal(handed.status, 302, 'busy: amy is sent to the spare');
  const location = String(handed.headers.location);
  t.match(location, new RegExp(`^http://${SPARE_IP.replace(/\./g, '\\.')}:${WEB}/login/offload\\?token=[\\w-]{43}&from=acc$`));
  t.equal(handed.headers['set-cookie'], undefined, 'no session on the busy server');
  const path = location.slice(`http://${SPARE_IP}:${WEB}`.length);

  const landed = await http(SPARE_IP, WEB, path);
  t.equal(landed.status, 302, 'the spare redeems the token: no password asked');
  t.equal(landed.headers.location, '/status/', 'and sends her where she was going');
  const cookie = cookiesOf(landed);
  t.match(cookie, /^lc_session=v\d+\./);
  t.match((await http(SPARE_IP, WEB, '/login/', { cookie })).body, /You are logged in as amy:d1\./, 'a session of hers on the spare');
  t.equal(await spare.call('spare', 'userload'), '0', 'the spare counts no user load (its limit is off)');
  t.equal((await http(SPARE_IP, WEB, path)).status, 403, 'a token works once');
  await new Lonnet(c).changeuserauth('lib', 'd1', 'amy', 'internal', 'amy new pw');
  t.notMatch((await http(SPARE_IP, WEB, '/login/', { cookie })).body, /You are logged in/, 'her session on the spare ends with a password change, as any other');

  const again = await login('amy', 'amy new pw');
  const stolen = String(again.headers.location).replace(/^http:\/\/[^/]+/, '');
  t.equal((await http(LIB_IP, WEB, stolen)).status, 403, 'a token only works on the host it was issued for');
  t.equal((await http(SPARE_IP, WEB, stolen)).status, 403, 'and is spent by any attempt');
  t.equal((await login('amy', 'amy pw')).status, 200, 'a wrong password is still the form, busy or not');

  await spare.stop();
  const busy = await login('amy', 'amy new pw');
  t.equal(busy.status, 503, 'no spare available: overloaded');
  t.equal(busy.headers['retry-after'], '100', 'classic: the overload above 100 %, in seconds');
  t.match(busy.body, /<h1>This server is busy<\/h1>/);

  spare = await net.start('spare', spareArgs);
  writeFileSync(sparesFile, '# no spares\n');
  const reloads = () => acc.stderr.filter((l) => / reloaded: /.test(l)).length;
  acc.proc.kill('SIGHUP');
  await waitFor('the first reload', () => reloads() === 1);
  const here = await login('amy', 'amy new pw');
  t.equal(here.status, 302, 'spares reloaded on SIGHUP: none left, so the busy server takes the login itself');
  t.equal(here.headers.location, '/status/');
  writeFileSync(sparesFile, 'spare\n');
  acc.proc.kill('SIGHUP');
  await waitFor('the second reload', () => reloads() === 2);
  await waitFor('acc reaches the spare again', async () => (await acc.call('spare', 'ping')) === 'spare');
  const back = await login('amy', 'amy new pw');
  t.equal(back.status, 302, 'a default spare qualifies too');
  t.match(String(back.headers.location), /^http:\/\/127\.0\.62\.4:\d+\/login\/offload\?/);
  t.notOk([...spare.stderr, ...acc.stderr].some((l) => l.includes('amy pw') || l.includes('amy new pw')), 'no password in any log');
});
