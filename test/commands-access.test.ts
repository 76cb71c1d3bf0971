/**
 * Who may call what (docs/commands.md, Access): the commands that make a
 * user who she is — accounts, authentication, roles, ids — are accepted only
 * from library servers of the user's domain, managers and local clients.
 * The fixture is lib1 of msu; FIXTURE_HOSTS names the callers.
 */
import t from 'tap';
import { escape } from '../lib/client/escape';
import { refusalOf } from '../lib/commands/table';
import { FIXTURE_HOSTS, makeFixture, type Caller } from './helpers/commands-fixture';

const ROLE = escape('/msu/c101_st');
/** Each domain-scoped command, for a user of msu, as a caller would send it. */
const DOMAIN_SCOPED: ReadonlyArray<readonly [name: string, line: string]> = [
  ['makeuser', 'makeuser:msu:zoe:none:'],
  ['changeuserauth', 'changeuserauth:msu:amy:krb5:MSU.EDU'],
  ['rolesput', `rolesput:msu:prof:msu:amy:${ROLE}=st_0_0`],
  ['rolesdel', `rolesdel:msu:prof:msu:amy:${ROLE}`],
  ['idput', 'idput:msu:A1=amy'],
];

t.test('the domain-scoped commands are exactly these, and each names its domain argument', async (t) => {
  const f = makeFixture(t);
  const scoped = f.table
    .names()
    .map((n) => f.table.get(n)!)
    .filter((s) => s.access === 'domain');
  t.same(scoped.map((s) => s.name), ['changeuserauth', 'idput', 'makeuser', 'rolesdel', 'rolesput']);
  for (const spec of scoped) t.type(spec.domainArg, 'number', `${spec.name} says where the domain is`);
  t.equal(f.table.get('passwd')!.access, 'any', 'passwd needs the old password: it stays open to access servers');
  t.equal(f.table.get('auth')!.access, 'any');
});

t.test('an access server of the domain and a library server of another domain are refused', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('makeuser:msu:amy:none:', { local: true }), 'ok');
  for (const who of [{ caller: 'acc1' }, { caller: 'lib9' }, { caller: 'nowhere', callerRole: 'library' }] satisfies Caller[]) {
    for (const [name, line] of DOMAIN_SCOPED) t.equal(await f.call(line, who), 'refused', `${name} from ${who.caller}`);
  }
  t.same(f.store.db.prepare('SELECT domain, name, auth_type FROM users').all(), [{ domain: 'msu', name: 'amy', auth_type: 'none' }], 'nothing changed');
  t.equal(f.store.db.prepare('SELECT count(*) FROM kv').pluck().get(), 0);
  t.equal(f.store.db.prepare('SELECT count(*) FROM ids').pluck().get(), 0);
  t.equal(f.store.db.prepare('SELECT count(*) FROM history').pluck().get(), 0);
});

t.test('a library server of the domain, a manager and a local client are accepted', async (t) => {
  for (const who of [{ caller: 'lib2' }, { caller: 'acc1', manager: true }, { caller: 'lib9', manager: true }, { local: true }] satisfies Caller[]) {
    const f = makeFixture(t);
    t.equal(await f.call('makeuser:msu:amy:none:', { local: true }), 'ok');
    for (const [name, line] of DOMAIN_SCOPED) t.equal(await f.call(line, who), 'ok', `${name} from ${JSON.stringify(who)}`);
  }
});

t.test('the refusal names the rule and the caller, never more of the line than a plain domain', async (t) => {
  const f = makeFixture(t);
  const ctx = (caller: string) => ({
    caller,
    callerRole: FIXTURE_HOSTS.get(caller)?.role ?? ('access' as const),
    local: false,
    manager: false,
    served: 'lib1',
    msgid: undefined,
    services: { hosts: () => FIXTURE_HOSTS } as never,
  });
  const makeuser = f.table.get('makeuser')!;
  t.equal(refusalOf(makeuser, ctx('acc1'), ['msu', 'zoe', 'none', '']), 'only library servers of domain msu and managers may (acc1 is access in msu)');
  t.equal(refusalOf(makeuser, ctx('lib9'), ['msu', 'zoe', 'none', '']), 'only library servers of domain msu and managers may (lib9 is library in other)');
  t.equal(refusalOf(makeuser, ctx('ghost'), ['msu', 'zoe', 'none', '']), "only library servers of domain msu and managers may (ghost is not in the hosts table)");
  t.equal(refusalOf(makeuser, ctx('lib9'), ['x\ny', 'zoe', 'none', '']), "only library servers of the user's domain and managers may (lib9 is library in other)");
  t.equal(refusalOf(makeuser, ctx('lib2'), ['msu', 'zoe', 'none', '']), undefined);
});
