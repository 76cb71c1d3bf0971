import t from 'tap';
import { join } from 'node:path';
import { LoncapadError } from '../lib/errors';
import { openDatabase } from '../lib/store/sqlite';
import { isAllowed, GrantTable, partiesOf, userParty, isParty } from '../lib/web/permissions';
import { SiteMap, toNodeUrl } from '../lib/web/site-map';
import { parentUrl, SiteNodeTable, type SiteNode } from '../lib/web/site-node-table';

let nextId = 1;
function node(url: string, packageKey: string, pattern = true, inherit = true): SiteNode {
  return { nodeId: nextId++, url, packageKey, instanceName: packageKey, pattern, inherit };
}

function table(...nodes: SiteNode[]): SiteNodeTable {
  const tbl = new SiteNodeTable();
  for (const n of nodes) tbl.set(n);
  return tbl;
}

/** Every ancestor of `url`, as the lookups walk them. */
function ancestors(url: string): string[] {
  const all: string[] = [];
  for (let p = parentUrl(url); p !== undefined; p = parentUrl(p)) all.push(p);
  return all;
}

t.test('parentUrl walks directory prefixes from the right', async (t) => {
  t.same(ancestors('/a/b/c'), ['/a/b/', '/a/', '/']);
  t.same(ancestors('/a/b/c/'), ['/a/b/', '/a/', '/']);
  t.same(ancestors('/a'), ['/']);
  t.same(ancestors('/'), []);
});

t.test('lookup: exact, then URL + "/", then pattern ancestors, root last', async (t) => {
  const root = node('/', '');
  const a = node('/a/', 'pa');
  const ab = node('/a/b/', 'pa');
  const exact = node('/x/', 'px', false);
  const tbl = table(root, a, ab, exact);
  t.same(tbl.resolve('/'), { kind: 'node', node: root, extraUrl: '' });
  t.same(tbl.resolve('/a/'), { kind: 'node', node: a, extraUrl: '' });
  t.same(tbl.resolve('/a'), { kind: 'redirect', node: a });
  t.same(tbl.resolve('/a/b/c/d'), { kind: 'node', node: ab, extraUrl: 'c/d' });
  t.same(tbl.resolve('/a/c/'), { kind: 'node', node: a, extraUrl: 'c/' });
  t.same(tbl.resolve('/x/'), { kind: 'node', node: exact, extraUrl: '' }, 'exact match ignores the pattern flag');
  t.same(tbl.resolve('/x'), { kind: 'redirect', node: exact });
  t.same(tbl.resolve('/x/y'), { kind: 'node', node: root, extraUrl: 'x/y' }, 'non-pattern node skipped below');
  t.same(tbl.resolve('/nothing/here'), { kind: 'node', node: root, extraUrl: 'nothing/here' });
});

t.test('the root matches even when it is not a pattern node', async (t) => {
  const root = node('/', '', false);
  t.same(table(root).resolve('/z'), { kind: 'node', node: root, extraUrl: 'z' });
});

t.test('privileges inherit from the enclosing node unless turned off', async (t) => {
  const root = node('/', '');
  const open = node('/open/', 'p');
  const closed = node('/open/closed/', 'p', true, false);
  const inner = node('/open/closed/inner/', 'p');
  const tbl = table(root, open, closed, inner);
  const grants = new GrantTable();
  grants.add(root.nodeId, 'public', 'read');
  grants.add(closed.nodeId, 'alice:d', 'read');
  grants.add(open.nodeId, 'bob:d', 'admin');
  const can = (n: SiteNode, user: string | null, p: 'read' | 'admin') => isAllowed(tbl, grants, n, partiesOf(user), p);
  t.equal(can(open, null, 'read'), true, 'public read inherited from /');
  t.equal(can(closed, null, 'read'), false, 'inheritance off');
  t.equal(can(inner, null, 'read'), false, 'below a closed node too');
  t.equal(can(inner, 'alice:d', 'read'), true);
  t.equal(can(inner, 'alice:d', 'admin'), false);
  t.equal(can(open, 'bob:d', 'admin'), true);
  t.equal(can(open, 'bob:d', 'read'), true, 'admin implies read');
  t.equal(can(closed, 'bob:d', 'admin'), false, 'admin of the parent stops at a closed node');
  grants.add(root.nodeId, 'registered', 'read');
  grants.remove(root.nodeId, 'public', 'read');
  t.equal(can(open, null, 'read'), false);
  t.equal(can(open, 'carol:d', 'read'), true, 'registered users');
});

t.test('parties and user names', async (t) => {
  t.equal(userParty('alice', 'dom1'), 'alice:dom1');
  t.equal(userParty('al:ice', 'dom1'), undefined);
  t.equal(userParty('', 'dom1'), undefined);
  t.same(
    ['public', 'registered', 'a:b', 'a', ':b', 'a:', 'a:b:c', 'Public'].map(isParty),
    [true, true, true, false, false, false, false, false],
  );
});

t.test('node URLs are normalised directory URLs', async (t) => {
  t.equal(toNodeUrl('/a/b'), '/a/b/');
  t.equal(toNodeUrl('//a/./b/'), '/a/b/');
  t.equal(toNodeUrl('/'), '/');
  for (const bad of ['a/b', '/a?x', '/.git/', '/a%2Fb']) {
    t.throws(() => toNodeUrl(bad), { code: 'LC_ERR_BAD_ARGS' }, bad);
  }
});

t.test('SiteMap persists mounts and grants in SQLite', async (t) => {
  const file = join(t.testdir(), 'data.sqlite');
  const db = openDatabase(file);
  const map = new SiteMap(db);
  t.same(
    map.list().map((n) => [n.url, n.packageKey, n.grants]),
    [
      ['/', '', [{ party: 'public', privilege: 'read' }]],
      ['/login/', 'login', [{ party: 'public', privilege: 'read' }]],
      ['/logout/', 'logout', [{ party: 'public', privilege: 'read' }]],
      ['/status/', 'status', []],
    ],
    'a fresh site',
  );
  const mounted = map.mount('/courses/chem', 'chem', { pattern: false, inherit: false, instanceName: 'Chemistry' });
  t.match(mounted, { url: '/courses/chem/', packageKey: 'chem', pattern: false, inherit: false, instanceName: 'Chemistry' });
  map.grant('/courses/chem/', 'alice:dom1', 'admin');
  map.grant('/courses/chem/', 'alice:dom1', 'admin');
  t.equal(map.revoke('/', 'public', 'read'), true);
  t.equal(map.revoke('/', 'public', 'read'), false);
  map.mount('/other/', 'x');
  t.equal(map.unmount('/other'), true);
  t.equal(map.unmount('/other/'), false);
  db.close();

  const reopened = new SiteMap(openDatabase(file));
  const chem = reopened.list().find((n) => n.url === '/courses/chem/');
  t.match(chem, { packageKey: 'chem', pattern: false, inherit: false, instanceName: 'Chemistry' });
  t.same(chem?.grants, [{ party: 'alice:dom1', privilege: 'admin' }]);
  t.same(reopened.list().find((n) => n.url === '/')?.grants, []);
  t.equal(reopened.list().some((n) => n.url === '/other/'), false);

  const remounted = reopened.mount('/courses/chem/', 'chem2');
  t.equal(remounted.nodeId, chem?.nodeId, 'remounting keeps the node');
  t.same(reopened.list().find((n) => n.url === '/courses/chem/')?.grants, chem?.grants, 'and its grants');
});

t.test('unmounting the root leaves it serving the global pageroot', async (t) => {
  const map = new SiteMap(openDatabase(join(t.testdir(), 'data.sqlite')));
  map.mount('/', 'main');
  t.equal(map.list()[0]?.packageKey, 'main');
  t.equal(map.unmount('/'), true);
  t.match(map.resolve('/anything'), { kind: 'node', node: { url: '/', packageKey: '' } });
});

t.test('SiteMap refuses bad arguments with LC_ERR_BAD_ARGS', async (t) => {
  const map = new SiteMap(openDatabase(join(t.testdir(), 'data.sqlite')));
  const bad = (fn: () => unknown, what: string) => t.throws(fn, new LoncapadError('LC_ERR_BAD_ARGS', ''), what);
  bad(() => map.mount('/x/', '../etc'), 'package key with a slash');
  bad(() => map.mount('/x/', ''), 'empty package key');
  bad(() => map.grant('/nowhere/', 'public', 'read'), 'grant on an unmounted URL');
  bad(() => map.grant('/', 'everyone', 'read'), 'unknown party');
  bad(() => map.grant('/', 'public', 'write'), 'unknown privilege');
});
