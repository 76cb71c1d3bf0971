/**
 * /metrics from real daemons (127.0.75.x): a library server `ml`, an access
 * server `ma` with the web processor, and `mc`, stopped at first so that a
 * critical message waits in ma's spool. Drives pings, an unknown command, a
 * critical write, a wrong `auth` and a failed web login, then reads the named
 * series and checks the whole text with `promtool check metrics` (Debian
 * package `prometheus`; the check says so and skips without it).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { escape } from '../lib/client/escape';
import { isSameMachine, rootAdmins } from '../lib/metrics';
import { openDatabase } from '../lib/store/sqlite';
import { SiteMap } from '../lib/web/site-map';
import { http } from './helpers/http';
import { makeNetwork, webPort as testWebPort, type Daemon } from './helpers/network';
import { waitFor } from './helpers/wait';

/** `name{labels} value` lines of the text format, by `name{labels}` as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function scrape(d: Daemon, port: number): Promise<{ text: string; series: Map<string, number>; contentType: string }> {
  const r = await http(d.host.ip, port, '/metrics');
  if (r.status !== 200) throw new Error(`/metrics on ${d.host.id}: ${r.status}`);
  return { text: r.body, series: samples(r.body), contentType: String(r.headers['content-type']) };
}

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

t.test('the named series, from real traffic', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'ml', ip: '127.0.75.2', role: 'library' },
    { id: 'ma', ip: '127.0.75.3', role: 'access' },
    { id: 'mc', ip: '127.0.75.4', role: 'access' },
  ]);
  const webPort = testWebPort(18750);
  const mlWeb = testWebPort(18751);
  const ml = await net.start('ml', ['--http-port', String(mlWeb)]);
  const ma = await net.start('ma', ['--http-port', String(webPort)]);

  for (let i = 0; i < 3; i++) t.equal(await ma.call('ml', 'ping'), 'ml');
  t.equal(await ma.call('.', 'ping'), 'ma');
  t.equal(await ma.call('ml', 'frobnicate:x'), 'unknown_cmd');
  t.equal(await ma.call('nowhere', 'ping'), 'no_such_host');
  t.equal(await ml.call('ml', `makeuser:d1:amy:internal:${escape('right')}`), 'ok');
  t.equal(await ma.call('ml', `auth:d1:amy:${escape('wrong')}`), 'non_authorized');
  const login = await http(ma.host.ip, webPort, '/login/', { form: { user: 'amy', domain: 'd1', password: 'wrong too' } });
  t.equal((await http(ma.host.ip, webPort, '/no/such/page')).status, 404);
  const beforeCritical = Date.now();
  t.equal(await ma.call('mc', 'put:d1:amy:grades:hw1=10', { critical: true }), 'con_delayed');

  let earlierScrapes = 0;
  const first = await waitFor('a reconnect to mc counted', async () => {
    const s = await scrape(ma, webPort);
    earlierScrapes++;
    return (s.series.get('loncapad_peer_reconnects_total{peer="mc"}') ?? 0) >= 1 ? s : undefined;
  });
  const afterScrape = Date.now();
  const s = first.series;
  t.equal(first.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  t.equal(s.get('loncapad_build_info{host="ma",version="0.1.0"}'), 1);
  t.equal(s.get('loncapad_requests_total{peer="ml",command="ping",result="answered"}'), 3);
  t.equal(s.get('loncapad_request_duration_seconds_count{peer="ml",command="ping"}'), 3);
  t.equal(s.get('loncapad_request_duration_seconds_bucket{le="+Inf",peer="ml",command="ping"}'), 3);
  t.equal(s.get('loncapad_requests_total{peer="ma",command="ping",result="answered"}'), 1, "'.' is counted under this host's id");
  t.equal(s.get('loncapad_requests_total{peer="ml",command="other",result="refused"}'), 1, 'a word not in the command table is other');
  t.equal(s.get('loncapad_requests_total{peer="other",command="ping",result="not_done"}'), 1, 'a peer not in the hosts table is other');
  t.equal(s.get('loncapad_requests_total{peer="mc",command="put",result="delayed"}'), 1);
  t.equal(s.get('loncapad_spool_enqueued_total{peer="mc"}'), 1);
  t.equal(s.get('loncapad_spool_depth{peer="mc"}'), 1);
  t.equal(s.get('loncapad_spool_depth{peer="ml"}'), 0);
  const age = s.get('loncapad_spool_oldest_age_seconds{peer="mc"}')!;
  t.ok(age >= 0 && age <= (afterScrape - beforeCritical) / 1000, `the oldest message's age (${age} s) lies within the test's own clock`);
  t.equal(s.get('loncapad_spool_oldest_age_seconds{peer="ml"}'), 0);
  t.equal(s.get('loncapad_peer_link_state{peer="ml",state="up"}'), 1);
  t.equal(s.get('loncapad_peer_link_state{peer="ml",state="dead"}'), 0);
  const mcStates = ['idle', 'connecting', 'handshaking', 'up', 'backoff', 'dead'].filter((st) => s.get(`loncapad_peer_link_state{peer="mc",state="${st}"}`) === 1);
  t.equal(mcStates.length, 1, 'one state at a time');
  t.not(mcStates[0], 'up');
  t.equal(s.get('loncapad_auth_failures_total{kind="web_login"}'), 1, 'the failed web login, on the access server');
  t.equal(s.get('loncapad_auth_failures_total{kind="auth_command"}'), 0, 'auth is refused at the home server, not here');
  t.equal(s.get('loncapad_web_requests_total{code="404"}'), 1);
  t.equal(login.status, 200, 'a failed login shows the form again');
  t.equal(s.get('loncapad_web_requests_total{code="200"}'), 1 + earlierScrapes - 1, 'the login page and the scrapes before this one');
  t.equal(s.get('loncapad_spool_set_aside_total{reason="failed"}'), 0);
  t.equal(s.get('loncapad_wal_sync_duration_seconds_count{database="spool"}'), 1, 'the spooled put: one sync before con_delayed');
  t.equal(s.get('loncapad_wal_sync_duration_seconds_bucket{le="+Inf",database="spool"}'), 1);
  t.ok(s.get('loncapad_wal_sync_duration_seconds_sum{database="spool"}')! > 0);
  t.equal(s.get('loncapad_wal_sync_duration_seconds_count{database="store"}'), 0, 'no write from a peer here');
  t.ok(s.has('loncapad_nodejs_eventloop_lag_seconds'), 'event-loop lag (default metrics)');
  t.ok(s.has('loncapad_nodejs_eventloop_lag_p99_seconds'), 'and its sampled percentiles');
  const busy = s.get('loncapad_event_loop_utilization')!;
  t.ok(busy > 0 && busy < 1, `event-loop utilization since the previous scrape is a fraction (${busy})`);
  t.ok(s.has('loncapad_process_cpu_seconds_total'), 'process metrics');

  const home = (await scrape(ml, mlWeb)).series;
  t.equal(home.get('loncapad_auth_failures_total{kind="auth_command"}'), 2, "the wrong auth and the web login's check, at the home server");

  // mc comes back: ma replays its spool.
  await net.start('mc');
  const replayed = await waitFor('the spooled put delivered', async () => {
    const r = await scrape(ma, webPort);
    return r.series.get('loncapad_spool_delivered_total{peer="mc"}') === 1 ? r.series : undefined;
  });
  t.equal(replayed.get('loncapad_spool_replayed_total{peer="mc"}'), 1);
  t.equal(replayed.get('loncapad_spool_depth{peer="mc"}'), 0);
  t.equal(replayed.get('loncapad_spool_oldest_age_seconds{peer="mc"}'), 0);

  t.test('promtool check metrics accepts the whole text', { skip: promtool ? false : 'promtool not installed (Debian package prometheus)' }, async (t) => {
    const text = (await scrape(ma, webPort)).text;
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    t.same({ status: check.status, stdout: check.stdout, stderr: check.stderr }, { status: 0, stdout: '', stderr: '' });
  });
});

t.test('who may read /metrics', async (t) => {
  t.equal(isSameMachine('127.0.0.1', '127.0.75.3'), true, 'loopback');
  t.equal(isSameMachine('::1', '::1'), true);
  t.equal(isSameMachine('::ffff:127.0.0.9', '::ffff:10.0.0.5'), true, 'loopback as a mapped IPv4 address');
  t.equal(isSameMachine('10.0.0.5', '10.0.0.5'), true, 'the address the server listens on: a scraper on the host itself');
  t.equal(isSameMachine('::ffff:10.0.0.5', '10.0.0.5'), true);
  t.equal(isSameMachine('10.0.0.6', '10.0.0.5'), false, 'another machine');
  t.equal(isSameMachine('::ffff:10.0.0.6', '::ffff:10.0.0.5'), false);
  t.equal(isSameMachine(undefined, '10.0.0.5'), false, 'a socket already gone');

  const db = openDatabase(join(t.testdir(), 'data.sqlite'));
  t.teardown(() => db.close());
  const map = new SiteMap(db);
  const isAdmin = rootAdmins(map);
  t.equal(isAdmin('amy:d1'), false);
  map.grant('/', 'amy:d1', 'admin');
  t.equal(isAdmin('amy:d1'), true, 'an admin of /');
  t.equal(isAdmin('ben:d1'), false);
  map.grant('/', 'registered', 'read');
  t.equal(isAdmin('ben:d1'), false, 'read is not enough');
});
