/**
 * The status page in a real headless Chromium (Debian's, driven by
 * playwright-core): an admin logs in, opens /status/, and the page's own
 * script refreshes it from /status/data.json (under the page's CSP: a
 * blocked script would never refresh). Then a screenshot, checked to be a
 * PNG of some size. `LCD_STATUS_SCREENSHOT=docs/status-page.png` also
 * saves it there (how docs/status-page.png was made). Without Chromium the
 * test says so and skips.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { runCli } from './helpers/cli';
import { makeNetwork, webPort } from './helpers/network';

const CHROMIUM = '/usr/bin/chromium';
const WEB_PORT = webPort(18740);
const LIB = '127.0.74.2';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A screenshot of a page with tables in it is tens of KiB; a blank or broken one is far smaller. */
const MIN_SCREENSHOT_BYTES = 20_000;

t.test('an admin watches the status page refresh itself — in Chromium', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: install Debian's chromium (.ci/run does)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const net = await makeNetwork(t, [
    { id: 'msul1', ip: LIB, role: 'library', domain: 'msu' },
    { id: 'msua1', ip: '127.0.74.3', role: 'access', domain: 'msu' },
    { id: 'msul2', ip: '127.0.74.4', role: 'library', domain: 'msu' },
  ]);
  const lib = await net.start('msul1', ['--http-port', String(WEB_PORT)]);
  await net.start('msua1');
  const c = await lib.client();
  t.teardown(() => c.close());
  await new Lonnet(c).makeuser('msul1', 'msu', 'root', 'internal', 'root pw');
  const grant = await runCli(['site', 'grant', '/', 'root:msu', 'admin', '--spool', lib.host.spool]);
  t.equal(grant.code, 0, grant.stderr);
  t.equal(await lib.call('msua1', 'ping'), 'msua1');
  // msul2 is away: a homework submission waits for it in the spool.
  t.equal(await lib.call('msul2', 'put:msu:amy:grades:hw1=10', { critical: true }), 'con_delayed');

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const blocked: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') blocked.push(m.text());
  });
  const base = `http://${LIB}:${WEB_PORT}`;

  await page.goto(`${base}/status/`);
  t.equal(new URL(page.url()).pathname, '/login/', 'sent to the login page');
  t.equal(await page.getAttribute('link[rel=stylesheet]', 'href'), '/login/loncapad.css');
  await page.fill('input[name=user]', 'root');
  await page.selectOption('select[name=domain]', 'msu');
  await page.fill('input[name=password]', 'root pw');
  await Promise.all([page.waitForURL(`${base}/status/`), page.click('button[type=submit]')]);

  await page.waitForSelector('#status-view[data-refreshes="1"]', { timeout: 15_000 });
  t.pass('the page refreshed itself from data.json');
  t.match(await page.textContent('#refreshed'), /^As of .+\.$/);
  t.ok(await page.isVisible('#peers'), 'the peer table is visible');
  const peers = await page.$$eval('#peers tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)));
  t.same(peers.sort(), [['msua1', 'up'], ['msul2', peers.find((p) => p[0] === 'msul2')![1]]].sort(), 'both peers, msua1 up');
  t.same(await page.$$eval('#spool tbody td', (cells) => cells.slice(0, 2).map((c) => c.textContent)), ['msul2', '1'], 'the submission waiting for msul2');
  t.equal(await page.evaluate("getComputedStyle(document.querySelector('main')).borderTopStyle"), 'solid', 'the stylesheet applies');
  t.same(blocked, [], 'no script or style blocked by the CSP, no error in the console');

  const file = join(t.testdir(), 'status-page.png');
  await page.screenshot({ path: file, fullPage: true });
  const png = readFileSync(file);
  t.same(png.subarray(0, 8), PNG_SIGNATURE, 'a PNG');
  t.ok(png.length > MIN_SCREENSHOT_BYTES, `of non-trivial size (${png.length} bytes)`);
  if (process.env.LCD_STATUS_SCREENSHOT) copyFileSync(file, resolve(__dirname, '../..', process.env.LCD_STATUS_SCREENSHOT));
});
