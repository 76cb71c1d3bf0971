import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeFixture, testDirOf } from './helpers/commands-fixture';

/** A resource tree: res/msu/smith with a current file, two kept versions and a few oddities. */
function resourceTree(t: Parameters<typeof testDirOf>[0]): string {
  const root = join(testDirOf(t), 'res');
  const author = join(root, 'msu', 'smith');
  mkdirSync(join(author, 'sub'), { recursive: true });
  mkdirSync(join(root, 'msu', 'empty'), { recursive: true });
  writeFileSync(join(author, 'p.problem'), 'current');
  writeFileSync(join(author, 'p.1.problem'), 'one');
  writeFileSync(join(author, 'p.2.problem'), 'two');
  writeFileSync(join(author, 'p.problem.meta'), 'meta');
  writeFileSync(join(author, 'new.html'), 'x');
  writeFileSync(join(author, 'odd:na&me%.txt'), 'x');
  symlinkSync('/etc', join(author, 'escape'));
  return root;
}

function statOf(path: string): string {
  const s = lstatSync(path);
  const sec = (ms: number): number => Math.floor(ms / 1000);
  const times = [sec(s.atimeMs), sec(s.mtimeMs), sec(s.ctimeMs)];
  return [s.dev, s.ino, s.mode, s.nlink, s.uid, s.gid, s.rdev, s.size, ...times, s.blksize, s.blocks].join('&');
}

t.test('ls lists a directory of the resource space with classic stat fields', async (t) => {
  const root = resourceTree(t);
  const f = makeFixture(t, { settings: { resourceDir: root } });
  const author = join(root, 'msu', 'smith');
  const reply = await f.call('ls:/res/msu/smith');
  const entries = reply.split(':').sort();
  t.same(
    entries,
    ['escape', 'new.html', 'odd%3Ana%26me%25.txt', 'p.1.problem', 'p.2.problem', 'p.problem', 'p.problem.meta', 'sub']
      .map((name) => `${name}&${statOf(join(author, decodeURIComponent(name)))}`)
      .sort(),
  );
  t.equal(await f.call('ls:/home/httpd/html/res/msu/smith/'), reply, 'a classic document-root path means the same');
  t.equal(await f.call('ls:/res/msu/smith/new.html'), `new.html&${statOf(join(author, 'new.html'))}`);
  t.equal(await f.call('ls:/res/msu/empty'), 'empty');
  t.equal(await f.call('ls:/res/msu/nobody'), 'no_such_dir');
  t.equal(await f.call('ls:/res'), `msu&${statOf(join(root, 'msu'))}`);
});

t.test('ls refuses to climb out of the resource space', async (t) => {
  const root = resourceTree(t);
  const f = makeFixture(t, { settings: { resourceDir: root } });
  t.equal(await f.call('ls:/res/msu/../..'), 'error:bad path');
  t.equal(await f.call('ls:/res/./msu'), 'error:bad path');
  t.equal(await f.call('ls:/res//msu'), 'error:bad path');
  t.equal(await f.call('ls:/res/msu/smith/escape'), 'no_such_dir', 'a link out of the root is not there');
  t.equal(await f.call('ls:/etc'), 'no_such_dir', 'outside the resource space');
  t.equal(await f.call('ls:/res/msu\nx'), 'error:control character in path');
});

t.test('ls without a resource directory answers no_such_dir', async (t) => {
  const f = makeFixture(t);
  t.equal(await f.call('ls:/res/msu'), 'no_such_dir');
  const g = makeFixture(t, { settings: { resourceDir: join(testDirOf(t), 'missing') } });
  t.equal(await g.call('ls:/res/msu'), 'no_such_dir');
});

t.test('currentversion counts the kept versions of a published resource', async (t) => {
  const root = resourceTree(t);
  const f = makeFixture(t, { settings: { resourceDir: root } });
  t.equal(await f.call('currentversion:/res/msu/smith/p.problem'), '3');
  t.equal(await f.call('currentversion:/home/httpd/html/res/msu/smith/p.problem'), '3');
  t.equal(await f.call('currentversion:/res/msu/smith/p.1.problem'), '3', 'a version in the name is ignored');
  t.equal(await f.call('currentversion:/res/msu/smith/new.html'), '1');
  t.equal(await f.call('currentversion:/res/msu/smith/gone.html'), '-1');
  t.equal(await f.call('currentversion:/res/msu/nobody/p.problem'), '-1');
  t.equal(await f.call('currentversion:/res/msu/smith/../../x'), 'error:bad path');
});

t.test('reinit is for managers only and goes through the daemon hook', async (t) => {
  const asked: string[] = [];
  const f = makeFixture(t, { reinit: (target) => (asked.push(target), 'ok') });
  t.equal(await f.call('reinit:lond'), 'refused', 'not a manager');
  t.equal(await f.call('reinit:lond', { manager: true }), 'ok');
  t.equal(await f.call('reinit:lonc', { local: true }), 'ok');
  t.equal(await f.call('reinit:httpd', { manager: true }), 'error:reinit target must be lonc or lond');
  t.same(asked, ['lond', 'lonc']);
  const g = makeFixture(t);
  t.equal(await g.call('reinit:lond', { manager: true }), 'ok', 'answers ok without a hook');
});
