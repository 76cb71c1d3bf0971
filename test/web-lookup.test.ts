/** Pure parts of the request path: prefixes, registries, names, return URLs. */
import t from 'tap';
import type { ServerResponse } from 'node:http';
import { requiredPrivilege } from '../lib/web/authorize';
import { globToRegExp } from '../lib/web/filters';
import { HandlerRegistry } from '../lib/web/handlers';
import { contentTypeFor } from '../lib/web/mime-types';
import { pageKindOf } from '../lib/web/page-loader';
import { isHiddenName } from '../lib/web/pageroots';
import type { PageHandler } from '../lib/web/request-env';
import { loginRedirect, safeReturnUrl } from '../lib/web/return-url';
import { vuhPrefixes } from '../lib/web/vuh-search';

t.test('vuh prefixes, most specific first (reference §4.1)', async (t) => {
  t.same(vuhPrefixes('a/b/c'), ['/a/b/c/', '/a/b/c', '/a/b/', '/a/b', '/a/', '/a', '/']);
  t.same(vuhPrefixes('a/b/'), ['/a/b/', '/a/b', '/a/', '/a', '/']);
  t.same(vuhPrefixes(''), ['/']);
});

t.test('handler registry: longest path, exact before subtree, unregister', async (t) => {
  const reg = new HandlerRegistry();
  const named = (name: string): PageHandler => Object.assign((_r: unknown, res: ServerResponse) => res.end(name), { label: name });
  const label = (url: string) => {
    const m = reg.match(url);
    return m === undefined ? undefined : [(m.handler as PageHandler & { label: string }).label, m.pathInfo];
  };
  t.equal(label('/x'), undefined, 'empty registry');
  const offRoot = reg.register('/', named('root'));
  reg.register('/a', named('a'));
  const offExact = reg.register('/a/b/', named('ab-exact'), { exact: true });
  reg.register('/a/b/c', named('abc'));
  t.same(label('/'), ['root', '']);
  t.same(label('/z/y'), ['root', '/z/y']);
  t.same(label('/a'), ['a', '']);
  t.same(label('/a/'), ['a', '']);
  t.same(label('/a/x'), ['a', '/x']);
  t.same(label('/a/b'), ['ab-exact', '']);
  t.same(label('/a/b/'), ['ab-exact', '']);
  t.same(label('/a/b/x'), ['a', '/b/x'], 'an exact registration does not claim its subtree');
  t.same(label('/a/b/c/d/'), ['abc', '/d/']);
  offExact();
  t.same(label('/a/b'), ['a', '/b']);
  offRoot();
  t.equal(label('/z'), undefined);
  t.throws(() => reg.register('a', named('bad')), { code: 'LC_ERR_BAD_ARGS' });
});

t.test('filter globs', async (t) => {
  const re = globToRegExp('/doc/*.html');
  t.equal(re.test('/doc/a.html'), true);
  t.equal(re.test('/doc/a/b.html'), true, '* crosses "/" as Tcl string match does');
  t.equal(re.test('/doc/a.htm'), false);
  t.equal(globToRegExp('/a?c').test('/abc'), true);
  t.equal(globToRegExp('/a.c').test('/abc'), false, 'regex characters are literal');
  t.equal(globToRegExp('*').test('/anything/at/all'), true);
});

t.test('which privilege a URL needs', async (t) => {
  t.equal(requiredPrivilege(''), 'read');
  t.equal(requiredPrivilege('admin'), 'admin');
  t.equal(requiredPrivilege('admin/'), 'admin');
  t.equal(requiredPrivilege('ADMIN/x'), 'admin');
  t.equal(requiredPrivilege('administer'), 'read');
  t.equal(requiredPrivilege('x/admin/'), 'read', 'only directly under the mount');
});

t.test('file names: kinds, hidden names, content types', async (t) => {
  t.same(['/a/x.page.js', '/a/x.vuh', '/a/x.js', '/a/x.html'].map(pageKindOf), ['page', 'vuh', 'static', 'static']);
  t.same(
    ['.env', 'a~', 'a.bak', 'a.orig', 'x.page.ts', 'x.page.d.ts', 'x.page.js.map', 'x.page.js', 'a.txt', 'app.js.map'].map(isHiddenName),
    [true, true, true, true, true, true, true, false, false, false],
  );
  t.equal(contentTypeFor('/a/b.HTML'), 'text/html; charset=utf-8');
  t.equal(contentTypeFor('/a.b/c'), 'application/octet-stream');
  t.equal(contentTypeFor('/a/.x'), 'application/octet-stream');
});

t.test('return URLs stay on this site', async (t) => {
  t.equal(safeReturnUrl('/a/b?c=d'), '/a/b?c=d');
  for (const bad of [null, undefined, '', 'a', '//x', '/\\x', 'https://x/', '/a b', '/a\r\nSet-Cookie: x', '/é']) {
    t.equal(safeReturnUrl(bad), '/', JSON.stringify(bad));
  }
  t.equal(loginRedirect('/login/', '/a b/', 'x=1&y=2'), '/login/?return_url=%2Fa%2520b%2F%3Fx%3D1%26y%3D2');
});
