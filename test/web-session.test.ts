import t from 'tap';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../lib/store/sqlite';
import { ActiveSessions } from '../lib/web/active-sessions';
import { signSession, verifySession, type SessionClaims } from '../lib/web/session-cookie';
import { loadSessionSecret, SESSION_SECRET_FILE } from '../lib/web/session-secret';
import { SESSION_ID_BLOCK, SessionStore } from '../lib/web/session-store';
import { SessionTokens } from '../lib/web/session-tokens';
import {
  ANONYMOUS,
  cookieValues,
  LOGIN_MAX_AGE_S,
  RENEW_AFTER_S,
  SESSION_COOKIE,
  SESSION_IDLE_TIMEOUT_S,
  SessionManager,
} from '../lib/web/sessions';

const secret = randomBytes(32);
/** Every user's token is `token1`, as a home server that never saw a password change would answer. */
const sameTokens = () => new SessionTokens(async () => 'token1', 0, () => {});
const claims: SessionClaims = { sessionId: 42, userId: 'alice:dom1', authToken: 'a1b2', loginAt: 1000, issuedAt: 1100, expiresAt: 2000 };

t.test('a signed value verifies until its expiry', async (t) => {
  const value = signSession(secret, claims);
  t.match(value, /^v2\.42\.[A-Za-z0-9_-]+\.a1b2\.1000\.1100\.2000\.[A-Za-z0-9_-]{43}$/);
  t.same(verifySession(secret, value, 1999), claims);
  t.equal(verifySession(secret, value, 2000), undefined, 'expired at expiresAt');
});

t.test('tampering with any field, or another key, fails', async (t) => {
  const value = signSession(secret, claims);
  const fields = value.split('.');
  for (let i = 0; i < fields.length; i++) {
    const changed = [...fields];
    changed[i] = i === 2 ? Buffer.from('bob:dom1').toString('base64url') : changed[i] + '1';
    t.equal(verifySession(secret, changed.join('.'), 1500), undefined, `field ${i}`);
  }
  t.equal(verifySession(randomBytes(32), value, 1500), undefined, 'other key');
  for (const junk of ['', 'x', 'v2', '........', value + '.x', value.slice(0, -2)]) {
    t.equal(verifySession(secret, junk, 1500), undefined, JSON.stringify(junk));
  }
});

t.test('cookieValues finds every value of one cookie', async (t) => {
  t.same(cookieValues(undefined, 'a'), []);
  t.same(cookieValues('a=1; b=2;a=3', 'a'), ['1', '3']);
  t.same(cookieValues('ab=1; =2; a', 'a'), []);
});

t.test('the session key file is created once, mode 0600', async (t) => {
  const keysDir = join(t.testdir(), 'keys');
  const first = await loadSessionSecret(keysDir);
  t.equal(first.length, 32);
  t.equal((await stat(join(keysDir, SESSION_SECRET_FILE))).mode & 0o777, 0o600);
  t.same(await loadSessionSecret(keysDir), first, 'read back, not replaced');
});

t.test('session ids come from a persistent sequence, in blocks', async (t) => {
  const file = join(t.testdir(), 'data.sqlite');
  const store = new SessionStore(openDatabase(file), 0);
  const ids = Array.from({ length: SESSION_ID_BLOCK + 5 }, () => store.nextSessionId());
  t.same(ids, Array.from({ length: SESSION_ID_BLOCK + 5 }, (_, i) => i + 1));
  const again = new SessionStore(openDatabase(file), 0);
  t.equal(again.nextSessionId(), 2 * SESSION_ID_BLOCK + 1, 'a restart skips the unused part of the block');
});

t.test('revoked ids persist until their cookies have expired', async (t) => {
  const file = join(t.testdir(), 'data.sqlite');
  const store = new SessionStore(openDatabase(file), 100);
  store.revoke(7, 500, 100);
  t.equal(store.isRevoked(7), true);
  t.equal(new SessionStore(openDatabase(file), 499).isRevoked(7), true);
  t.equal(new SessionStore(openDatabase(file), 500).isRevoked(7), false);
});

t.test('SessionManager: login, renewal, logout, bad cookies', async (t) => {
  const store = new SessionStore(openDatabase(join(t.testdir(), 'data.sqlite')), 0);
  const active = new ActiveSessions(60_000);
  const sessions = new SessionManager(store, secret, active, sameTokens());
  const t0 = 1_700_000_000_000;
  const cookieOf = (setCookie: string) => setCookie.slice(0, setCookie.indexOf(';'));

  t.same(await sessions.read(undefined, t0), { session: ANONYMOUS });
  t.same(await sessions.read('other=1', t0), { session: ANONYMOUS });

  const login = sessions.login(ANONYMOUS, 'alice:dom1', 'token1', t0);
  t.match(login.setCookie, new RegExp(`^${SESSION_COOKIE}=v2\\.[^;]+; Path=/; Max-Age=${SESSION_IDLE_TIMEOUT_S}; HttpOnly; SameSite=Lax$`));
  t.same(login.session, { sessionId: 1, userId: 'alice:dom1', authLevel: 'ok' });
  t.equal(active.count(t0), 1);
  const cookie = cookieOf(login.setCookie);

  t.same(await sessions.read(cookie, t0 + 1000), { session: login.session }, 'fresh cookie: no renewal');
  const renewed = await sessions.read(cookie, t0 + RENEW_AFTER_S * 1000);
  t.same(renewed.session, login.session, 'renewal keeps the session id');
  t.not(renewed.setCookie, undefined, 'and re-issues the cookie');
  t.same((await sessions.read(cookie, t0 + SESSION_IDLE_TIMEOUT_S * 1000)).session, ANONYMOUS, 'idle too long');
  const renewedCookie = cookieOf(renewed.setCookie!);
  t.same(
    (await sessions.read(renewedCookie, t0 + SESSION_IDLE_TIMEOUT_S * 1000)).session,
    login.session,
    'the renewed cookie lives on',
  );

  const relogin = sessions.login(login.session, 'alice:dom1', 'token1', t0 + 2000);
  t.equal(relogin.session.sessionId, 2, 'login always rotates the id');
  t.same(await sessions.read(cookie, t0 + 3000), { session: ANONYMOUS, setCookie: `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax` }, 'the old id is revoked');

  const out = sessions.logout(relogin.session, t0 + 4000);
  t.same(out.session, ANONYMOUS);
  t.match(out.setCookie, /Max-Age=0/);
  t.same((await sessions.read(cookieOf(relogin.setCookie), t0 + 5000)).session, ANONYMOUS, 'logged-out cookie refused');
  t.equal(active.count(t0 + 5000), 0);

  t.same((await sessions.read(`${SESSION_COOKIE}=garbage`, t0)).session, ANONYMOUS);
  t.same((await sessions.read(`${SESSION_COOKIE}=garbage; ${cookie}`, t0 + 1000)).session, ANONYMOUS, 'revoked, even among others');
});

t.test('a login lasts at most LOGIN_MAX_AGE_S, however often it is renewed', async (t) => {
  const store = new SessionStore(openDatabase(join(t.testdir(), 'data.sqlite')), 0);
  const sessions = new SessionManager(store, secret, new ActiveSessions(60_000), sameTokens());
  const t0 = 1_700_000_000_000;
  let cookie = sessions.login(ANONYMOUS, 'bob:dom1', 'token1', t0).setCookie;
  let now = t0;
  const step = (SESSION_IDLE_TIMEOUT_S - 60) * 1000;
  while (now + step < t0 + LOGIN_MAX_AGE_S * 1000) {
    now += step;
    const r = await sessions.read(cookie.slice(0, cookie.indexOf(';')), now);
    t.equal(r.session.userId, 'bob:dom1');
    cookie = r.setCookie ?? cookie;
  }
  const late = await sessions.read(cookie.slice(0, cookie.indexOf(';')), t0 + LOGIN_MAX_AGE_S * 1000);
  t.same(late.session, ANONYMOUS);
});

t.test('ActiveSessions counts sessions seen within the window', async (t) => {
  const active = new ActiveSessions(1000);
  active.touch(1, 0);
  active.touch(2, 500);
  active.touch(1, 900);
  t.equal(active.count(1000), 2);
  t.equal(active.count(1501), 1);
  active.forget(1);
  t.equal(active.count(1501), 0);
});
