/**
 * End to end in a real headless Chromium (Debian's, driven by
 * playwright-core): log in on an access server as a user whose home is a
 * library server, open a protected page, follow the logout link, and find
 * the page protected again. `.ci/run` installs Chromium; where it is
 * missing the test says so and skips.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { runCli } from './helpers/cli';
import { makeNetwork, webPort } from './helpers/network';

const CHROMIUM = '/usr/bin/chromium';
const WEB_PORT = webPort(18081);

t.test('log in, read a protected page, log out — in Chromium', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: install Debian's chromium (.ci/run does)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const net = await makeNetwork(t, [
    { id: 'acc', ip: '127.0.13.2', role: 'access' },
    { id: 'lib', ip: '127.0.13.3', role: 'library' },
  ]);
  const www = join(net.dir, 'acc', 'site', 'packages', 'notes', 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(
    join(www, 'index.html'),
    '<!DOCTYPE html><title>Notes</title><h1 id="notes">Amy\'s notes</h1><a id="out" href="/logout/?return_url=/notes/">log out</a>\n',
  );
  const a = await net.start('acc', ['--http-port', String(WEB_PORT)]);
  const lib = await net.start('lib');
  const c = await a.client();
  t.teardown(() => c.close());
  // Users are made on their home server by its operator (an access server may not).
  const admin = await lib.client();
  await new Lonnet(admin).makeuser('.', 'd1', 'amy', 'internal', 'correct horse');
  await admin.close();
  for (const args of [
    ['site', 'mount', '/notes/', 'notes', '--no-inherit'],
    ['site', 'grant', '/notes/', 'registered', 'read'],
  ]) {
    const r = await runCli([...args, '--spool', a.host.spool]);
    t.equal(r.code, 0, r.stderr);
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const base = `http://127.0.13.2:${WEB_PORT}`;

  await page.goto(`${base}/notes/`);
  t.equal(new URL(page.url()).pathname, '/login/', 'sent to the login page');
  await page.fill('input[name=user]', 'amy');
  await page.selectOption('select[name=domain]', 'd1');
  await page.fill('input[name=password]', 'correct horse');
  await Promise.all([page.waitForURL(`${base}/notes/`), page.click('button[type=submit]')]);
  t.equal(await page.textContent('#notes'), "Amy's notes", 'the protected page, after logging in at her home server');

  await Promise.all([page.waitForURL(/\/login\//), page.click('#out')]);
  t.equal(new URL(page.url()).pathname, '/login/', 'logged out: the page is protected again');
  await page.goto(`${base}/notes/`);
  t.equal(new URL(page.url()).pathname, '/login/');
});
