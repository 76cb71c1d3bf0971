/**
 * The auth token a user's home server keeps (the `authtoken` command and the
 * user-store schema step that adds it): what web sessions are tied to.
 */
import { join } from 'node:path';
import t from 'tap';
import { escape } from '../lib/client/escape';
import { authChangeSubject } from '../lib/commands/auth';
import { migrate, openDatabase } from '../lib/store/sqlite';
import { UserStore } from '../lib/store';
import { USER_STORE_SCHEMA } from '../lib/store/user-schema';
import { makeFixture, testDirOf } from './helpers/commands-fixture';

const TOKEN_RE = /^[0-9a-f]{16}$/;

t.test('authtoken changes with every change of her authentication, and only then', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('authtoken:msu:alice'), 'unknown_user');
  t.equal(await f.call(`makeuser:msu:alice:internal:${escape('one')}`), 'ok');
  const first = await f.call('authtoken:msu:alice');
  t.match(first, TOKEN_RE);
  t.equal(await f.call('authtoken:msu:alice'), first, 'asking changes nothing');
  t.equal(await f.call(`auth:msu:alice:${escape('one')}`), 'authorized');
  t.equal(await f.call('authtoken:msu:alice'), first, 'nor does logging in');

  t.equal(await f.call(`passwd:msu:alice:${escape('wrong')}:${escape('two')}`), 'non_authorized');
  t.equal(await f.call('authtoken:msu:alice'), first, 'a refused passwd changes nothing');
  t.equal(await f.call(`passwd:msu:alice:${escape('one')}:${escape('two')}`), 'ok');
  const second = await f.call('authtoken:msu:alice');
  t.match(second, TOKEN_RE);
  t.not(second, first, 'passwd replaces it');
  t.equal(await f.call(`changeuserauth:msu:alice:internal:${escape('three')}`), 'ok');
  const third = await f.call('authtoken:msu:alice');
  t.not(third, second, 'changeuserauth replaces it');
  t.equal(await f.call('changeuserauth:msu:nobody:internal:x'), 'error:no_such_user');
  t.equal(await f.call('authtoken:msu:al:ice'), 'error:bad user name');
});

t.test('the store tells its listeners of each change', async (t) => {
  const f = makeFixture(t);
  const changed: string[] = [];
  f.store.users.onAuthChange((u) => changed.push(`${u.name}:${u.domain}`));
  await f.call(`makeuser:msu:alice:internal:${escape('one')}`);
  await f.call(`passwd:msu:alice:${escape('nope')}:${escape('two')}`);
  await f.call(`changeuserauth:msu:alice:krb5:MSU.EDU`);
  t.same(changed, ['alice:msu'], 'only the change that happened');
});

t.test('authChangeSubject names the user whose authentication a line changes', async (t) => {
  t.equal(authChangeSubject('passwd:msu:alice:old:new'), 'alice:msu');
  t.equal(authChangeSubject('encrypt:changeuserauth:msu:bob:internal:x'), 'bob:msu');
  t.equal(authChangeSubject('sethost:lib1:passwd:msu:carol:a:b'), 'carol:msu');
  t.equal(authChangeSubject('auth:msu:alice:pw'), undefined);
  t.equal(authChangeSubject('passwdx:msu:alice'), undefined);
  t.equal(authChangeSubject('passwd'), undefined);
});

t.test('the schema step gives users made before it a token of their own', async (t) => {
  const file = join(testDirOf(t), 'old.sqlite');
  const db = openDatabase(file);
  migrate(db, 'user-store', USER_STORE_SCHEMA.slice(0, 2));
  const insert = db.prepare("INSERT INTO users (domain, name, auth_type, auth_arg, created_at) VALUES ('msu', ?, 'none', '', 0)");
  insert.run('amy');
  insert.run('ben');
  db.close();
  const store = new UserStore(file);
  t.teardown(() => store.close());
  const amy = store.users.authToken({ domain: 'msu', name: 'amy' });
  const ben = store.users.authToken({ domain: 'msu', name: 'ben' });
  t.match(amy, TOKEN_RE);
  t.match(ben, TOKEN_RE);
  t.not(amy, ben);
});
