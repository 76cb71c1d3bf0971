import t from 'tap';
import { encodePath, MAX_TARGET_BYTES, normalizePath, normalizeTarget, urlSegments, withQuery } from '../lib/web/normalize-url';

t.test('paths are decoded and normalised', async (t) => {
  const cases: [string, string, string[]][] = [
    ['/', '/', []],
    ['/a/b', '/a/b', ['a', 'b']],
    ['/a/b/', '/a/b/', ['a', 'b']],
    ['//a///b//', '/a/b/', ['a', 'b']],
    ['/a/./b', '/a/b', ['a', 'b']],
    ['/a/b/..', '/a/', ['a']],
    ['/a/b/.', '/a/b/', ['a', 'b']],
    ['/a/../../../b', '/b', ['b']],
    ['/..', '/', []],
    ['/%2e%2e/%2E%2E/etc/passwd', '/etc/passwd', ['etc', 'passwd']],
    ['/a/%2e/b', '/a/b', ['a', 'b']],
    ['/caf%C3%A9/x%20y', '/café/x y', ['café', 'x y']],
    ['http://example.org/a/b?x', '/a/b', ['a', 'b']],
  ];
  for (const [raw, url, urlv] of cases) {
    const r = normalizeTarget(raw);
    t.same(r, { kind: 'ok', url, query: r.kind === 'ok' ? r.query : '' }, raw);
    // A page's env.urlv: the decoded segments, split from the normalised URL.
    t.same(urlSegments(url), urlv, raw);
  }
});

t.test('targets already in normal form take the short way to the same answer', async (t) => {
  // The short way applies to these (no escapes, no empty or dot segments); the full rules must agree.
  for (const raw of ['/', '/a', '/a/', '/a/b.c/d_e-f~g', '/res/d1/amy/x.problem', '/A0/b.', '/a.b/']) {
    const full = normalizePath(raw)!;
    t.same(normalizeTarget(raw), { kind: 'ok', url: full.url, query: '' }, raw);
    t.same(urlSegments(full.url), full.urlv, raw);
  }
  // And these take the full rules: each differs from its raw form, or is refused.
  t.same(normalizeTarget('/a//b'), { kind: 'ok', url: '/a/b', query: '' });
  t.same(normalizeTarget('/.git/config'), { kind: 'rejected', status: 404 });
  t.same(normalizeTarget('/a/.hidden/'), { kind: 'rejected', status: 404 });
  t.same(normalizeTarget('/a/%2fb'), { kind: 'rejected', status: 400 });
});

t.test('the query is kept raw', async (t) => {
  t.same(normalizeTarget('/a?x=%20&y=1'), { kind: 'ok', url: '/a', query: 'x=%20&y=1' });
  t.same(normalizeTarget('/a?'), { kind: 'ok', url: '/a', query: '' });
});

t.test('bad requests are 400', async (t) => {
  for (const raw of ['/a%00b', '/a%0ab', '/a%7Fb', '/%ZZ', '/%C3', '/a%2Fb', '/a%5Cb', 'a/b', '*', '/a?x=\u0001']) {
    t.same(normalizeTarget(raw), { kind: 'rejected', status: 400 }, raw);
  }
});

t.test('long targets are 414, checked before anything else', async (t) => {
  t.equal(normalizeTarget('/' + 'a'.repeat(MAX_TARGET_BYTES - 1)).kind, 'ok');
  t.same(normalizeTarget('/' + 'a'.repeat(MAX_TARGET_BYTES)), { kind: 'rejected', status: 414 });
  t.same(normalizeTarget('/%00' + 'a'.repeat(MAX_TARGET_BYTES)), { kind: 'rejected', status: 414 });
  // Counted in bytes, not characters: '€' is three bytes of UTF-8.
  t.equal(normalizeTarget('/' + '€'.repeat(666)).kind, 'ok', '1,999 bytes');
  t.same(normalizeTarget('/' + '€'.repeat(667)), { kind: 'rejected', status: 414 }, '2,002 bytes in 668 characters');
});

t.test('segments starting with a dot are 404', async (t) => {
  for (const raw of ['/.env', '/a/.git/config', '/%2eenv', '/a/...', '/.well-known/x']) {
    t.same(normalizeTarget(raw), { kind: 'rejected', status: 404 }, raw);
  }
});

t.test('encodePath and withQuery build Location values', async (t) => {
  t.equal(encodePath('/café/x y/'), '/caf%C3%A9/x%20y/');
  t.equal(encodePath('/'), '/');
  t.equal(withQuery('/a/', ''), '/a/');
  t.equal(withQuery('/a/', 'x=1&y=2'), '/a/?x=1&y=2');
});
