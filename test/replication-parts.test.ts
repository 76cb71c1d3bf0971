/**
 * The pure parts of replication and load balancing, fed directly: resource
 * paths and version names, .meta text, the spares file, login tokens, the
 * single flight and the chunk budget.
 */
import t from 'tap';
import { HostsTable } from '../lib/config';
import { Budget } from '../lib/replication/budget';
import { LoginTokens, TOKEN_LIFETIME_MS } from '../lib/replication/login-tokens';
import { formatMeta, metaField } from '../lib/replication/meta';
import { SingleFlight } from '../lib/replication/single-flight';
import { parseSpares } from '../lib/replication/spares';
import { currentNameOf, keptName, parseResourcePath, versionInName } from '../lib/store/resource-files';

t.test('resource paths', async (t) => {
  t.same(parseResourcePath('/res/msu/smith/chem/p1.problem'), {
    domain: 'msu',
    author: 'smith',
    rel: ['chem', 'p1.problem'],
    url: '/res/msu/smith/chem/p1.problem',
  });
  t.equal(parseResourcePath('/home/httpd/html/res/msu/smith/p1.problem')?.url, '/res/msu/smith/p1.problem', 'the classic file-system form');
  t.same(parseResourcePath('/res/msu/smith/')?.rel, [], "the author's directory");
  t.equal(parseResourcePath('/res/msu'), undefined, 'no author');
  t.equal(parseResourcePath('/etc/passwd'), undefined, 'no res segment');
  t.equal(parseResourcePath('/res/msu/sm ith/x.html'), undefined, 'not a user name');
  t.equal(parseResourcePath('/res/msu/smith/x.html.in.transfer'), undefined, 'a work file is no resource');
  t.throws(() => parseResourcePath('/res/msu/smith/../../x'), { code: 'LC_ERR_BAD_ARGS' });
  t.throws(() => parseResourcePath('/res/msu/smith/x\n'), { code: 'LC_ERR_BAD_ARGS' });
});

t.test('version names', async (t) => {
  t.equal(keptName('p1.problem', 3), 'p1.3.problem');
  t.equal(keptName('README', 3), undefined, 'no extension');
  t.equal(currentNameOf('p1.3.problem'), 'p1.problem');
  t.equal(currentNameOf('p1.problem'), 'p1.problem');
  t.equal(versionInName('p1.12.problem'), 12);
  t.equal(versionInName('p1.problem'), undefined);
});

t.test('.meta text', async (t) => {
  const text = formatMeta({ title: 'Bohr <model> & "more"', author: 'smith:msu', version: 3, size: 10, sha256: 'ab'.repeat(32), publishedAt: 1_700_000_000_123 });
  t.equal(metaField(text, 'title'), 'Bohr <model> & "more"', 'escaped and back');
  t.equal(metaField(text, 'version'), '3');
  t.equal(metaField(text, 'published'), '1700000000', 'unix seconds');
  t.equal(metaField(text, 'nothing'), undefined);
  t.notMatch(text, /<model>/, 'no raw markup inside a value');
});

t.test('the spares file', async (t) => {
  const hosts = new HostsTable(
    ['a1', 'a2', 'a3', 'a4'].map((id) => ({ id, domain: 'd', role: 'access' as const, hostname: `${id}.x`, ip: '127.0.0.1', publicKey: 'k' })),
  );
  t.same(parseSpares('# spares\na3\nprimary: a2, a4\n\ndefault:a3 a2\n', 'spares.tab', hosts, 'a1'), { primary: ['a2', 'a4'], default: ['a3'] });
  t.throws(() => parseSpares('a2\nzz\n', 'spares.tab', hosts, 'a1'), { code: 'LC_ERR_CONFIG', message: 'spares.tab:2: zz is not in the hosts table' });
  t.throws(() => parseSpares('primary: a1\n', 'spares.tab', hosts, 'a1'), { code: 'LC_ERR_CONFIG', message: 'spares.tab:1: a1 is this host, not a spare' });
});

t.test('login tokens', async (t) => {
  const tokens = new LoginTokens();
  const grant = { kind: 'accepted' as const, user: 'amy', domain: 'd1', authToken: 'epoch-1', returnUrl: '/x/' };
  const one = tokens.issue(grant, 'spare', 1000);
  t.match(one, /^[A-Za-z0-9_-]{43}$/);
  t.same(tokens.redeem(one, 'spare', 1001), grant);
  t.equal(tokens.redeem(one, 'spare', 1002), 'not_found', 'single use');
  const two = tokens.issue(grant, 'spare', 1000);
  t.equal(tokens.redeem(two, 'other', 1001), 'rejected', 'bound to its target');
  t.equal(tokens.redeem(two, 'spare', 1002), 'not_found', 'and spent by the wrong host');
  const three = tokens.issue(grant, 'spare', 1000);
  t.equal(tokens.redeem(three, 'spare', 1000 + TOKEN_LIFETIME_MS), 'not_found', 'short-lived');
  t.equal(tokens.redeem('short', 'spare', 1000), 'not_found');
});

t.test('single flight', async (t) => {
  const flights = new SingleFlight<number>();
  let runs = 0;
  let finish!: (n: number) => void;
  const work = () => {
    runs++;
    return new Promise<number>((resolve) => (finish = resolve));
  };
  const first = flights.run('k', work);
  const second = flights.run('k', work);
  t.same([first.joined, second.joined], [false, true]);
  t.equal(first.result, second.result, 'the same promise');
  finish(7);
  t.same(await Promise.all([first.result, second.result]), [7, 7]);
  t.equal(flights.running('k'), undefined, 'gone once settled');
  flights.run('k', work);
  t.equal(runs, 2, 'a later caller starts a new one');
  finish(8);
});

t.test('chunk budget', async (t) => {
  const budget = new Budget(2);
  await budget.take();
  await budget.take();
  let third = false;
  const waiting = budget.take().then(() => (third = true));
  await new Promise((r) => setImmediate(r));
  t.equal(third, false, 'the third waits');
  budget.give();
  await waiting;
  t.equal(third, true, 'and goes when a slot is given back');
});
