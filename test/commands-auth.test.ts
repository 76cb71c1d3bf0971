import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import t from 'tap';
import { escape } from '../lib/client/escape';
import { makeFixture, MSU_LIBRARY } from './helpers/commands-fixture';

const PASSWORD = 'Corr3ct horse: battery & staple!';
const NEW_PASSWORD = 'n3w-Secret%&=';
/** Calls come from a library server of the users' domain, which may create them (access 'domain'). */
const OPTIONS = { caller: MSU_LIBRARY };

t.test('makeuser makes the user live here; auth checks the password', async (t) => {
  const f = makeFixture(t, OPTIONS);
  t.equal(await f.call('home:msu:alice'), 'not_found');
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await f.call('home:msu:alice'), 'found');
  t.equal(await f.call('home:msu:Alice'), 'not_found', 'names are case-sensitive');
  t.equal(await f.call(`auth:msu:alice:${escape(PASSWORD)}`), 'authorized');
  t.equal(await f.call(`auth:msu:alice:${escape(PASSWORD + 'x')}`), 'non_authorized');
  t.equal(await f.call('auth:msu:alice:'), 'non_authorized');
  t.equal(await f.call(`auth:msu:alice:${escape(PASSWORD)}:1:1`), 'authorized', 'classic extra fields are ignored');
  t.equal(await f.call(`makeuser:msu:alice:internal:other`), 'error:already_exists');
  t.equal(await f.call(`auth:msu:alice:${escape(PASSWORD)}`), 'authorized', 'the existing user is untouched');
});

t.test('auth does not tell unknown users from wrong passwords', async (t) => {
  const f = makeFixture(t, OPTIONS);
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await f.call('makeuser:msu:carol:krb5:MSU.EDU'), 'ok');
  t.equal(await f.call(`auth:msu:nobody:${escape(PASSWORD)}`), 'non_authorized');
  t.equal(await f.call(`auth:msu:carol:${escape(PASSWORD)}`), 'non_authorized');
  t.equal(await f.call(`auth:msu:alice:wrong`), 'non_authorized');
});

t.test('currentauth answers the mode without the hash', async (t) => {
  const f = makeFixture(t, OPTIONS);
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await f.call('makeuser:msu:carol:krb5:MSU.EDU'), 'ok');
  t.equal(await f.call('makeuser:msu:c101:none:'), 'ok');
  t.equal(await f.call('currentauth:msu:alice'), 'internal:');
  t.equal(await f.call('currentauth:msu:carol'), 'krb5:MSU.EDU');
  t.equal(await f.call('currentauth:msu:c101'), 'none:');
  t.equal(await f.call('currentauth:msu:nobody'), 'unknown_user');
});

t.test('passwd changes an internal password after checking the old one', async (t) => {
  const f = makeFixture(t, OPTIONS);
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await f.call(`passwd:msu:alice:wrong:${escape(NEW_PASSWORD)}`), 'non_authorized');
  t.equal(await f.call(`passwd:msu:nobody:${escape(PASSWORD)}:${escape(NEW_PASSWORD)}`), 'non_authorized');
  t.equal(await f.call(`passwd:msu:alice:${escape(PASSWORD)}:${escape(NEW_PASSWORD)}`), 'ok');
  t.equal(await f.call(`auth:msu:alice:${escape(PASSWORD)}`), 'non_authorized');
  t.equal(await f.call(`auth:msu:alice:${escape(NEW_PASSWORD)}`), 'authorized');
  t.equal(await f.call(`passwd:msu:alice:${escape(NEW_PASSWORD)}:`), 'error:empty password');
  t.equal(await f.call(`passwd:msu:alice:${escape(NEW_PASSWORD)}:x:reset`), 'ok', 'the context field is accepted');
  t.equal(await f.call('makeuser:msu:carol:krb5:MSU.EDU'), 'ok');
  t.equal(await f.call('passwd:msu:carol:a:b'), 'auth_mode_error');
});

t.test('two concurrent password changes: one wins, the other is told', async (t) => {
  const f = makeFixture(t, OPTIONS);
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  const replies = await Promise.all([
    f.call(`passwd:msu:alice:${escape(PASSWORD)}:first`),
    f.call(`passwd:msu:alice:${escape(PASSWORD)}:second`),
  ]);
  t.same(replies.slice().sort(), ['error:authentication changed meanwhile, try again', 'ok']);
  const winner = replies[0] === 'ok' ? 'first' : 'second';
  t.equal(await f.call(`auth:msu:alice:${winner}`), 'authorized');
});

t.test('changeuserauth switches modes', async (t) => {
  const f = makeFixture(t, OPTIONS);
  t.equal(await f.call('makeuser:msu:carol:krb5:MSU.EDU'), 'ok');
  t.equal(await f.call(`changeuserauth:msu:carol:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await f.call('currentauth:msu:carol'), 'internal:');
  t.equal(await f.call(`auth:msu:carol:${escape(PASSWORD)}`), 'authorized');
  t.equal(await f.call('changeuserauth:msu:carol:krb4:OLD.REALM'), 'ok');
  t.equal(await f.call('currentauth:msu:carol'), 'krb4:OLD.REALM');
  t.equal(await f.call('changeuserauth:msu:nobody:krb4:X'), 'error:no_such_user');
  t.equal(await f.call('home:msu:nobody'), 'not_found');
});

t.test('bad authentication input changes nothing', async (t) => {
  const f = makeFixture(t, OPTIONS);
  const cases: Array<[string, string]> = [
    ['makeuser:msu:alice:internal:', 'error:empty password'],
    ['makeuser:msu:alice:plain:x', 'error:bad authentication mode'],
    ['makeuser:msu:alice:krb5:bad%3Arealm', 'error:bad authentication argument'],
    ['makeuser:msu:alice:internal:a:b', 'error:unescaped character in password'],
    ['makeuser:msu:alice:internal:%g1', 'error:bad escape in password'],
    ['makeuser:msu:../alice:internal:x', 'error:bad user name'],
    ['makeuser:msu:alice:internal', 'error:makeuser needs 4 arguments'],
    [`makeuser:msu:alice:internal:${'x'.repeat(1025)}`, 'error:password longer than 1024 characters'],
    ['auth:msu:alice', 'error:auth needs 3 arguments'],
  ];
  for (const [line, reply] of cases) t.equal(await f.call(line), reply, line);
  t.equal(f.store.db.prepare('SELECT count(*) FROM users').pluck().get(), 0);
});

t.test('auth commands are flagged secret; no password reaches the database files', async (t) => {
  const f = makeFixture(t, OPTIONS);
  for (const name of ['auth', 'currentauth', 'passwd', 'makeuser', 'changeuserauth']) {
    t.equal(f.table.get(name)?.secret, true, name);
    t.equal(f.table.get(name)?.writes, false, `${name} is not a transactional writes handler`);
  }
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await f.call(`passwd:msu:alice:${escape(PASSWORD)}:${escape(NEW_PASSWORD)}`), 'ok');
  t.equal(await f.call(`changeuserauth:msu:bob:internal:${escape(PASSWORD)}`), 'error:no_such_user');
  const stored = f.store.db.prepare("SELECT auth_type, auth_arg FROM users WHERE name = 'alice'").get() as {
    auth_type: string;
    auth_arg: string;
  };
  t.equal(stored.auth_type, 'internal');
  t.match(stored.auth_arg, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  const dir = dirname(f.file);
  for (const file of await readdir(dir)) {
    const bytes = await readFile(join(dir, file));
    for (const secret of [PASSWORD, NEW_PASSWORD]) {
      t.equal(bytes.indexOf(secret), -1, `${file} does not hold ${secret} in clear`);
      t.equal(bytes.indexOf(escape(secret)), -1, `${file} does not hold ${secret} escaped`);
    }
  }
});

t.test('each makeuser gets its own salt', async (t) => {
  const f = makeFixture(t, OPTIONS);
  t.equal(await f.call(`makeuser:msu:a:internal:same`), 'ok');
  t.equal(await f.call(`makeuser:msu:b:internal:same`), 'ok');
  const [a, b] = f.store.db.prepare('SELECT auth_arg FROM users ORDER BY name').pluck().all() as string[];
  t.not(a, b);
});

t.test('passwd checks the old password through the same throttle as auth', async (t) => {
  const f = makeFixture(t, { ...OPTIONS, auth: { perAccount: 2 } });
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape(PASSWORD)}`), 'ok');
  t.equal(await f.call(`passwd:msu:alice:wrong:${escape(NEW_PASSWORD)}`), 'non_authorized');
  t.equal(await f.call('auth:msu:alice:wrong'), 'non_authorized');
  t.equal(await f.call(`passwd:msu:alice:${escape(PASSWORD)}:${escape(NEW_PASSWORD)}`), 'non_authorized', 'throttled: not even the right one is checked');
  t.equal(await f.call(`auth:msu:alice:${escape(PASSWORD)}`), 'non_authorized');
  t.equal(await f.call(`auth:msu:bob:${escape(PASSWORD)}`), 'non_authorized', 'another account is checked (and fails)');
  t.match(f.warnings, [
    'auth failed for alice in msu from lib2',
    /^auth throttled for alice in msu from lib2: 2 failed checks of the account in 300000 ms; non_authorized without a check until /,
    'auth failed for bob in msu from lib2',
  ]);
  t.equal(f.warnings.length, 3, 'repeats are counted, not logged');
  t.notOk(f.warnings.join('\n').includes('wrong'), 'no password in the log');
});
