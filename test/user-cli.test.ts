/**
 * `loncapad user add|passwd|show|dump` as an operator runs it: the real
 * executable against real daemons (two library servers and one access server
 * of domain msu, on 127.0.8.x), passwords on stdin. Asserts the exact output
 * and exit codes, and that no password reaches a daemon's log or its files.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { escape } from '../lib/client/escape';
import { runCli } from './helpers/cli';
import { makeNetwork, query, shortTempDir, type Daemon } from './helpers/network';

const PASSWORD = 'Tr0ub4dor&3: zebra=%41 ü';
const NEW_PASSWORD = 'c0rrect-h0rse b@ttery&staple';
const THIRD_PASSWORD = 'pw:three=3';
const CAROL_PASSWORD = 'carol-never-stored';
const SECRETS = [PASSWORD, NEW_PASSWORD, THIRD_PASSWORD, CAROL_PASSWORD];

/** Every regular file under `dir` (databases, their WAL files, keys). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const s = await stat(path);
    if (s.isDirectory()) out.push(...(await filesUnder(path)));
    else if (s.isFile()) out.push(path);
  }
  return out;
}

t.test('loncapad user', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'msul1', ip: '127.0.8.2', domain: 'msu', role: 'library' },
    { id: 'msul2', ip: '127.0.8.3', domain: 'msu', role: 'library' },
    { id: 'msua1', ip: '127.0.8.4', domain: 'msu', role: 'access' },
  ]);
  // debug: the dispatcher logs every command it runs, so the log check below means something.
  const debug = ['--log-level', 'debug'];
  // The operator runs the CLI on the access server too: it is the library servers' manager,
  // since only library servers of the user's domain and managers may make users or reset passwords.
  const lib1 = await net.start('msul1', [...debug, '--managers', 'msua1']);
  const lib2 = await net.start('msul2', [...debug, '--managers', 'msua1']);
  const acc = await net.start('msua1', debug);
  const daemons: Daemon[] = [lib1, lib2, acc];
  /** The CLI against one daemon's local socket. */
  const cli = (d: Daemon, args: readonly string[], stdin?: string) => runCli(['user', ...args, '--spool', d.host.spool], stdin);

  t.test('the local hosts command lists the hosts table', async (t) => {
    t.equal(
      await acc.call('.', 'hosts'),
      '[{"id":"msul1","domain":"msu","role":"library"},{"id":"msul2","domain":"msu","role":"library"},{"id":"msua1","domain":"msu","role":"access"}]',
    );
    t.equal(await acc.call('msul1', 'hosts'), 'refused', 'local only: a peer may not ask');
  });

  t.test('add', async (t) => {
    const onAccess = await cli(acc, ['add', 'alice', 'msu', '--password-stdin'], PASSWORD + '\n');
    t.same(onAccess, {
      code: 1,
      stdout: '',
      stderr: "loncapad: msua1 is not a library server of domain msu (it is access in msu); a user's home must be one\n",
    });
    t.same(await cli(acc, ['add', 'alice', 'msu', '--home', 'msul2', '--password-stdin'], PASSWORD + '\n'), {
      code: 0,
      stdout: 'created alice in msu on msul2 (internal)\n',
      stderr: '',
    });
    t.equal(await acc.call('msul2', 'home:msu:alice'), 'found');
    t.equal(await acc.call('msul2', `auth:msu:alice:${escape(PASSWORD)}`), 'authorized', 'the whole line is the password');
    t.same(await cli(lib1, ['add', 'alice', 'msu', '--password-stdin'], 'other\n'), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: alice in msu already lives on msul2\n',
    });
    t.equal(await acc.call('msul1', 'home:msu:alice'), 'not_found', 'no second home');
    t.same(await cli(lib1, ['add', 'bob', 'msu', '--auth', 'krb5', '--auth-arg', 'MSU.EDU']), {
      code: 0,
      stdout: 'created bob in msu on msul1 (krb5)\n',
      stderr: '',
    });
    t.same(await cli(lib1, ['add', 'c101', 'msu', '--auth', 'none', '--critical']), {
      code: 0,
      stdout: 'created c101 in msu on msul1 (none)\n',
      stderr: '',
    });
    t.equal(await lib1.call('.', 'currentauth:msu:c101'), 'none:');
    t.same(await cli(lib1, ['add', 'al.ice/x', 'msu', '--auth', 'none']), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: msul1 answered error:bad user name for al.ice/x in msu\n',
    });
    t.same(await cli(lib1, ['add', 'dora', 'other', '--auth', 'none']), {
      code: 1,
      stdout: '',
      stderr: "loncapad: msul1 is not a library server of domain other (it is library in msu); a user's home must be one\n",
    });
  });

  t.test('add refuses a password anywhere but stdin', async (t) => {
    const cases: Array<[string[], string | undefined, string]> = [
      [['add', 'dora', 'msu'], 'x\n', 'loncapad: an internal password is read from stdin only: add --password-stdin\n'],
      [['add', 'dora', 'msu', '--auth-arg', 'x'], undefined, 'loncapad: --auth-arg is not for internal: the password is read from stdin (--password-stdin)\n'],
      [['add', 'dora', 'msu', '--password-stdin'], '', 'loncapad: empty password on stdin\n'],
      [['add', 'dora', 'msu', '--password-stdin'], '\n', 'loncapad: empty password on stdin\n'],
      [['add', 'dora', 'msu', '--password-stdin'], 'a\nb\n', 'loncapad: expected one password on stdin, one line\n'],
      [['add', 'dora', 'msu', '--auth', 'krb5', '--password-stdin'], 'x\n', 'loncapad: --password-stdin is only for --auth internal, not krb5\n'],
    ];
    for (const [args, stdin, stderr] of cases) t.same(await cli(lib1, args, stdin), { code: 1, stdout: '', stderr }, args.join(' '));
    t.equal(await lib1.call('.', 'home:msu:dora'), 'not_found', 'nothing was made');
    const usage = await cli(lib1, ['add', 'dora']);
    t.equal(usage.code, 1);
    t.match(usage.stderr, /\nloncapad: Not enough non-option arguments: got 1, need at least 2\n$/);
  });

  t.test('show finds the home server through the network', async (t) => {
    t.same(await cli(acc, ['show', 'alice', 'msu']), {
      code: 0,
      stdout: 'user    alice\ndomain  msu\nhome    msul2\nauth    internal\nusage   0 of 268435456 bytes (0.0 %)\n',
      stderr: '',
    });
    t.same(await cli(acc, ['show', 'bob', 'msu', '--json']), {
      code: 0,
      stdout: '{"user":"bob","domain":"msu","home":"msul1","auth":{"type":"krb5","arg":"MSU.EDU"},"usage":{"bytes":0,"quotaBytes":268435456}}\n',
      stderr: '',
    });
    t.same(await cli(acc, ['show', 'bob', 'msu']), {
      code: 0,
      stdout: 'user    bob\ndomain  msu\nhome    msul1\nauth    krb5 (MSU.EDU)\nusage   0 of 268435456 bytes (0.0 %)\n',
      stderr: '',
    });
    t.same(await cli(acc, ['show', 'nobody', 'msu']), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: no library server of domain msu claims nobody (no_host)\n',
    });
    t.same(await cli(acc, ['show', 'alice', 'msu', '--home', 'msul1']), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: alice in msu does not live on msul1\n',
    });
    t.same(await cli(acc, ['show', 'alice', 'msu', '--home', 'nosuch']), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: nosuch is not in the hosts table (no_such_host)\n',
    });
  });

  t.test('passwd: an operator reset uses changeuserauth', async (t) => {
    t.same(await cli(acc, ['passwd', 'alice', 'msu', '--password-stdin'], NEW_PASSWORD + '\r\n'), {
      code: 0,
      stdout: 'password of alice in msu changed on msul2\n',
      stderr: '',
    });
    t.equal(await acc.call('msul2', `auth:msu:alice:${escape(NEW_PASSWORD)}`), 'authorized');
    t.equal(await acc.call('msul2', `auth:msu:alice:${escape(PASSWORD)}`), 'non_authorized');
    t.same(await cli(acc, ['passwd', 'alice', 'msu'], 'x\n'), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: the password is read from stdin only: add --password-stdin\n',
    });
    t.same(await cli(acc, ['passwd', 'nobody', 'msu', '--password-stdin'], 'x\n'), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: no library server of domain msu claims nobody (no_host)\n',
    });
    t.same(await cli(acc, ['passwd', 'bob', 'msu', '--password-stdin'], 'x\n'), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: bob in msu authenticates with krb5, not internal; add --switch-to-internal to change that\n',
    });
    t.equal(await acc.call('msul1', 'currentauth:msu:bob'), 'krb5:MSU.EDU', 'unchanged');
    t.same(await cli(acc, ['passwd', 'bob', 'msu', '--password-stdin', '--switch-to-internal', '--critical'], 'bobs-pw\n'), {
      code: 0,
      stdout: 'password of bob in msu changed on msul1\n',
      stderr: '',
    });
    t.equal(await acc.call('msul1', 'currentauth:msu:bob'), 'internal:');
    t.equal(await acc.call('msul1', 'auth:msu:bob:bobs%2Dpw'), 'authorized');
  });

  t.test('passwd --verify-old uses passwd: the old password must match', async (t) => {
    t.same(await cli(acc, ['passwd', 'alice', 'msu', '--password-stdin', '--verify-old'], `${PASSWORD}\n${THIRD_PASSWORD}\n`), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: old password does not match, or alice in msu does not live on msul2 (non_authorized)\n',
    });
    t.equal(await acc.call('msul2', `auth:msu:alice:${escape(NEW_PASSWORD)}`), 'authorized', 'unchanged');
    t.same(await cli(acc, ['passwd', 'alice', 'msu', '--password-stdin', '--verify-old'], `${NEW_PASSWORD}\n${THIRD_PASSWORD}`), {
      code: 0,
      stdout: 'password of alice in msu changed on msul2\n',
      stderr: '',
    });
    t.equal(await acc.call('msul2', `auth:msu:alice:${escape(THIRD_PASSWORD)}`), 'authorized');
    t.same(await cli(acc, ['passwd', 'alice', 'msu', '--password-stdin', '--verify-old'], `${THIRD_PASSWORD}\n`), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: expected two lines on stdin: the old password, then the new one\n',
    });
    t.same(await cli(acc, ['passwd', 'c101', 'msu', '--password-stdin', '--verify-old'], 'a\nb\n'), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: c101 in msu does not authenticate with an internal password (auth_mode_error)\n',
    });
    t.same(await cli(acc, ['passwd', 'alice', 'msu', '--password-stdin', '--verify-old', '--switch-to-internal'], 'a\nb\n'), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: --verify-old and --switch-to-internal exclude each other\n',
    });
  });

  t.test('dump', async (t) => {
    t.equal(await acc.call('msul2', 'put:msu:alice:environment:firstname=Alice&last%20name=S%0Amith&a%3Ab=x%26y'), 'ok');
    t.same(await cli(acc, ['dump', 'alice', 'msu', 'environment']), {
      code: 0,
      // Key order is that of the escaped keys: a%3Ab, firstname, last%20name.
      stdout: 'KEY        VALUE\na:b        x&y\nfirstname  Alice\nlast name  S\\x0amith\n',
      stderr: '',
    });
    t.same(await cli(acc, ['dump', 'alice', 'msu', 'environment', '--json']), {
      code: 0,
      stdout: '{"a:b":"x&y","firstname":"Alice","last name":"S\\nmith"}\n',
      stderr: '',
    });
    t.same(await cli(acc, ['dump', 'alice', 'msu', 'environment', '--regexp', '^(first|last) ?name$', '--json']), {
      code: 0,
      stdout: '{"firstname":"Alice","last name":"S\\nmith"}\n',
      stderr: '',
    });
    t.same(await cli(acc, ['dump', 'alice', 'msu', 'nothing']), { code: 0, stdout: 'KEY  VALUE\n', stderr: '' });
    t.same(await cli(acc, ['dump', 'alice', 'msu', 'environment', '--regexp', '(a)\\1']), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: msul2 answered error:regexp refused (back-reference) for alice in msu\n',
    });
    t.same(await cli(acc, ['dump', 'alice', 'msu', 'bad-ns']), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: msul2 answered error:bad namespace for alice in msu\n',
    });
  });

  t.test('no daemon: exit code 2', async (t) => {
    const empty = shortTempDir(t);
    const r = await runCli(['user', 'show', 'alice', 'msu', '--spool', empty]);
    t.equal(r.code, 2);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^loncapad: loncapad is not running \(cannot connect to .*loncapad\.sock: ENOENT\)\n$/);
  });

  t.test('a stopped library server: add refuses, a critical passwd answers con_lost and spools nothing', async (t) => {
    await lib2.stop();
    t.same(await cli(acc, ['add', 'carol', 'msu', '--home', 'msul1', '--password-stdin'], CAROL_PASSWORD + '\n'), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: cannot tell whether carol in msu already lives on msul2 (con_lost); run it again when it answers\n',
    });
    t.equal(await acc.call('msul1', 'home:msu:carol'), 'not_found', 'no user made while a library server is silent');
    const args = ['passwd', 'alice', 'msu', '--home', 'msul2', '--password-stdin', '--verify-old', '--critical'];
    t.same(await cli(acc, args, `${THIRD_PASSWORD}\n${CAROL_PASSWORD}\n`), {
      code: 1,
      stdout: '',
      stderr: 'loncapad: msul2 did not answer (con_lost); nothing was spooled, run it again later\n',
    });
    t.same(query(join(acc.host.spool, 'spool.sqlite'), 'SELECT seq FROM queue UNION ALL SELECT seq FROM aside'), [], 'not spooled');
  });

  t.test('no password in any log line or file, in clear or escaped', async (t) => {
    // Logs are written once per loop turn: wait for the line of the last secret command that ran.
    await lib1.waitForLog(/run passwd:<redacted> for msua1/);
    const logs = daemons.flatMap((d) => d.stderr).join('\n');
    t.match(logs, /run makeuser:<redacted> for msua1/, 'the daemons did log the commands, redacted');
    t.match(logs, /run changeuserauth:<redacted>/);
    t.match(logs, /run passwd:<redacted>/);
    for (const secret of SECRETS) {
      t.equal(logs.indexOf(secret), -1, `the logs do not hold ${secret}`);
      t.equal(logs.indexOf(escape(secret)), -1, `the logs do not hold ${secret} escaped`);
    }
    for (const d of daemons) {
      const files = await filesUnder(d.host.spool);
      t.ok(files.some((f) => f.endsWith('data.sqlite')));
      for (const file of files) {
        const bytes = await readFile(file);
        for (const secret of SECRETS) {
          if (bytes.includes(secret) || bytes.includes(escape(secret))) t.fail(`${file} holds ${secret}`);
        }
      }
    }
    const [alice] = query<{ auth_type: string; auth_arg: string }>(
      join(lib2.host.spool, 'data.sqlite'),
      "SELECT auth_type, auth_arg FROM users WHERE domain = 'msu' AND name = 'alice'",
    );
    t.equal(alice?.auth_type, 'internal');
    t.match(alice?.auth_arg, /^\$scrypt\$/, 'a hash');
  });
});
