/**
 * One compromised access server must not own every account: the commands
 * that create accounts or change authentication, roles or ids are accepted
 * only from library servers of the user's domain, managers and local
 * clients. Real daemons on 127.0.53.x, two domains:
 *
 *   d1lib  library d1  (home of amy; lists mgr as its manager)
 *   d1lib2 library d1      d1acc access d1
 *   d2lib  library d2      mgr   access d2
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { escape } from '../lib/client/escape';
import { runCli } from './helpers/cli';
import { makeNetwork, query, type Daemon } from './helpers/network';

const OLD_PASSWORD = 'amy-old-pw';
const STUDENT = escape('/d1/c101_st');
const COORDINATOR = escape('/d1/c101_cc');

/** What a host that wanted to take over amy's account would send, by command. */
const TAKEOVER: ReadonlyArray<readonly [name: string, line: string]> = [
  ['makeuser', `makeuser:d1:eve:internal:${escape('eve-pw')}`],
  ['changeuserauth', `changeuserauth:d1:amy:internal:${escape('taken-over')}`],
  ['rolesput', `rolesput:d1:eve:d1:amy:${COORDINATOR}=cc_0_0`],
  ['rolesdel', `rolesdel:d1:eve:d1:amy:${STUDENT}`],
  ['idput', 'idput:d1:A1=eve'],
];

t.test('account, authentication and role changes across domains', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'd1lib', ip: '127.0.53.2', domain: 'd1', role: 'library' },
    { id: 'd1lib2', ip: '127.0.53.3', domain: 'd1', role: 'library' },
    { id: 'd1acc', ip: '127.0.53.4', domain: 'd1', role: 'access' },
    { id: 'd2lib', ip: '127.0.53.5', domain: 'd2', role: 'library' },
    { id: 'mgr', ip: '127.0.53.6', domain: 'd2', role: 'access' },
  ]);
  const home = await net.start('d1lib', ['--managers', 'mgr']);
  const callers = new Map<string, Daemon>();
  for (const id of ['d1lib2', 'd1acc', 'd2lib', 'mgr']) callers.set(id, await net.start(id));
  const data = join(home.host.spool, 'data.sqlite');
  t.equal(await home.call('.', `makeuser:d1:amy:internal:${escape(OLD_PASSWORD)}`), 'ok');
  t.equal(await home.call('.', `rolesput:d1:prof:d1:amy:${STUDENT}=st_0_0`), 'ok');

  const state = () => ({
    users: query(data, 'SELECT domain, name, auth_type, auth_arg FROM users ORDER BY name'),
    kv: query(data, 'SELECT name, ns, key, value FROM kv ORDER BY name, ns, key'),
    ids: query(data, 'SELECT domain, id, name FROM ids'),
    history: query(data, 'SELECT count(*) AS n FROM history'),
  });
  const refusedLines = (from: string, name: string) =>
    home.stderr.filter((l) => l.includes(` warn refused ${name} from ${from}: `));

  /** Every takeover command from `from` is refused, changes nothing, and is logged once with the rule. */
  const refusedFrom = async (t: Test, from: string, is: string): Promise<void> => {
    const before = state();
    for (const [name, line] of TAKEOVER) t.equal(await callers.get(from)!.call('d1lib', line), 'refused', name);
    t.same(state(), before, 'nothing changed');
    t.equal(await home.call('.', `auth:d1:amy:${escape(OLD_PASSWORD)}`), 'authorized', 'amy still logs in with her password');
    await home.waitForLog(new RegExp(`refused idput from ${from}:`));
    for (const [name] of TAKEOVER) {
      t.same(refusedLines(from, name).map((l) => l.replace(/^\S+ /, '')), [
        `warn refused ${name} from ${from}: only library servers of domain d1 and managers may (${from} is ${is})`,
      ], `${name} logged once`);
    }
  };

  t.test('an access server of the user’s domain is refused', async (t) => {
    await refusedFrom(t, 'd1acc', 'access in d1');
    // The operator's CLI on that host says why.
    const add = await runCli(['user', 'add', 'zed', 'd1', '--home', 'd1lib', '--auth', 'none', '--spool', callers.get('d1acc')!.host.spool]);
    t.same(add, {
      code: 1,
      stdout: '',
      stderr:
        'loncapad: d1lib refused: only library servers of d1 and the hosts it lists as managers may create users or reset passwords; ' +
        'run this there, or add this host to its --managers\n',
    });
    t.equal(await home.call('.', 'home:d1:zed'), 'not_found');
    t.equal(refusedLines('d1acc', 'makeuser').length, 1, 'a repeat is counted, not logged again');
  });

  t.test('a library server of another domain is refused', async (t) => {
    await refusedFrom(t, 'd2lib', 'library in d2');
  });

  t.test('passwd, which needs the old password, stays open to access servers', async (t) => {
    const acc = callers.get('d1acc')!;
    t.equal(await acc.call('d1lib', `passwd:d1:amy:${escape('wrong')}:${escape('new-pw')}`), 'non_authorized');
    t.equal(await acc.call('d1lib', `passwd:d1:amy:${escape(OLD_PASSWORD)}:${escape('new-pw')}`), 'ok');
    t.equal(await home.call('.', `auth:d1:amy:${escape('new-pw')}`), 'authorized');
  });

  t.test('a library server of the user’s domain is accepted', async (t) => {
    const lib2 = callers.get('d1lib2')!;
    for (const [name, line] of TAKEOVER) t.equal(await lib2.call('d1lib', line), 'ok', name);
    t.equal(await home.call('.', `auth:d1:amy:${escape('taken-over')}`), 'authorized');
    t.equal(await home.call('.', 'home:d1:eve'), 'found');
    t.equal(await home.call('.', 'dump:d1:amy:roles'), `${COORDINATOR}=cc_0_0`);
    t.equal(await home.call('.', 'idget:d1:A1'), 'eve');
    t.same(query(data, "SELECT by_host, executor FROM history WHERE ns = 'roles' ORDER BY id DESC LIMIT 1"), [{ by_host: 'd1lib2', executor: 'eve:d1' }]);
  });

  t.test('a manager is accepted, whatever its domain and role', async (t) => {
    const mgr = callers.get('mgr')!;
    t.equal(await mgr.call('d1lib', 'makeuser:d1:fay:none:'), 'ok');
    t.equal(await mgr.call('d1lib', `changeuserauth:d1:amy:internal:${escape('reset-by-mgr')}`), 'ok');
    t.equal(await mgr.call('d1lib', `rolesput:d1:prof:d1:fay:${STUDENT}=st_0_0`), 'ok');
    t.equal(await mgr.call('d1lib', `rolesdel:d1:prof:d1:amy:${COORDINATOR}`), 'ok');
    t.equal(await mgr.call('d1lib', 'idput:d1:F1=fay'), 'ok');
    t.equal(await home.call('.', `auth:d1:amy:${escape('reset-by-mgr')}`), 'authorized');
    t.equal(await home.call('.', 'dump:d1:fay:roles'), `${STUDENT}=st_0_0`);
    t.same(home.stderr.filter((l) => / refused \S+ from mgr:/.test(l)), [], 'nothing refused');
  });
});

