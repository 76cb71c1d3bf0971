/**
 * What a program that uses loncapad sees (127.0.78.x): a project of its own
 * with `loncapad` installed as npm would lay it out (package.json and
 * build/lib only) and `@types/node`, nothing else of ours. Its declarations
 * must compile there (`tsc`, no skipLibCheck), and docs/examples/from-a-program.ts
 * (the README's snippet) must compile and run against a real daemon.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { escape } from '../lib/client/escape';
import { makeNetwork, shortTempDir } from './helpers/network';

const ROOT = resolve(__dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** A project that depends on loncapad: its own node_modules with loncapad and @types/node only. */
function userProject(dir: string): void {
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'loncapad/build'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(modules, 'loncapad/package.json'));
  cpSync(join(ROOT, 'build/lib'), join(modules, 'loncapad/build/lib'), { recursive: true });
  for (const dep of ['@types/node', 'undici-types']) cpSync(join(ROOT, 'node_modules', dep), join(modules, dep), { recursive: true });
  cpSync(join(ROOT, 'docs/examples/from-a-program.ts'), join(dir, 'from-a-program.ts'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, module: 'commonjs', moduleResolution: 'node', target: 'ES2022', lib: ['ES2022'], types: ['node'], outDir: 'out' },
      files: ['from-a-program.ts'],
    }),
  );
}

t.test('docs/examples/from-a-program.ts compiles in a project of its own and runs against a real daemon', async (t) => {
  const dir = shortTempDir(t);
  userProject(dir);
  const tsc = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
  t.same({ status: tsc.status, stdout: tsc.stdout, stderr: tsc.stderr }, { status: 0, stdout: '', stderr: '' }, 'the declarations need @types/node and nothing else');

  const net = await makeNetwork(t, [
    { id: 'el', ip: '127.0.78.2', role: 'library', domain: 'msu' },
    { id: 'ea', ip: '127.0.78.3', role: 'access', domain: 'msu' },
  ]);
  const lib = await net.start('el');
  const acc = await net.start('ea');
  t.equal(await lib.call('el', `makeuser:msu:amy:internal:${escape('pw')}`), 'ok', 'made on her home');
  // The compiled example finds loncapad's own dependencies where npm would have installed them.
  const run = spawnSync(process.execPath, [join(dir, 'out/from-a-program.js'), acc.host.spool, 'amy', 'msu', '10'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
  });
  t.same({ status: run.status, stdout: run.stdout, stderr: run.stderr }, { status: 0, stdout: "amy's hw1 on el: ok\n", stderr: '' });
  t.equal(await lib.call('el', 'get:msu:amy:grades:hw1'), '10', 'the grade is on her home server');
  const nobody = spawnSync(process.execPath, [join(dir, 'out/from-a-program.js'), acc.host.spool, 'zed', 'msu', '1'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
  });
  t.equal(nobody.stdout, 'no library server of msu claims zed\n');
});
