/**
 * The failed-login throttle's pure policy, its owner's bounded memory, and
 * the rate-limited failure log, fed with times and keys directly.
 */
import t from 'tap';
import {
  delayAfterMs,
  failuresAt,
  waitMs,
  withFinished,
  withStarted,
  type ThrottleLimits,
  type ThrottleRecord,
} from '../lib/web/login-throttle-policy';
import { LoginThrottle, sourceKeyOf, type Admission } from '../lib/web/login-throttle';
import { LINES_PER_PERIOD, LINES_PER_SOURCE, LoginFailureLog, MAX_SUMMARISED_SOURCES } from '../lib/web/login-failure-log';

const ACCOUNT: ThrottleLimits = { maxFailures: 5, lockoutMs: 300_000, delayMs: 1_000, clearOnPass: true };
const SOURCE: ThrottleLimits = { maxFailures: 50, lockoutMs: 300_000, delayMs: 0, clearOnPass: false };

/** One checked attempt at `atMs` with `outcome`. */
function attempt(rec: ThrottleRecord | undefined, atMs: number, outcome: 'failed' | 'passed' | 'unknown', limits = ACCOUNT) {
  return withFinished(withStarted(rec, atMs, limits), atMs, outcome, limits);
}

t.test('waits double from the second failure, then a refusal for the lockout', async (t) => {
  t.same([1, 2, 3, 4, 5, 12].map((n) => delayAfterMs(n, ACCOUNT)), [0, 1_000, 2_000, 4_000, 8_000, 300_000], 'capped at the lockout');
  t.equal(delayAfterMs(7, SOURCE), 0, 'no waits where delayMs is 0');
  let rec = attempt(undefined, 0, 'failed');
  t.equal(waitMs(rec, 0, ACCOUNT), 0, 'a first failure is a typo');
  rec = attempt(rec, 10, 'failed');
  t.equal(waitMs(rec, 10, ACCOUNT), 1_000);
  t.equal(waitMs(rec, 1_010, ACCOUNT), 0);
  rec = attempt(rec, 1_010, 'failed');
  rec = attempt(rec, 3_010, 'failed');
  t.equal(waitMs(rec, 3_010, ACCOUNT), 4_000);
  rec = attempt(rec, 7_010, 'failed');
  t.equal(waitMs(rec, 7_010, ACCOUNT), 300_000, 'the fifth failure: refused for the lockout');
  t.equal(waitMs(rec, 307_009, ACCOUNT), 1);
  t.equal(waitMs(rec, 307_010, ACCOUNT), 0, 'and it ends with the lockout');
  t.equal(failuresAt(rec!, 307_010, ACCOUNT), 0, 'by then every failure has drained');
});

t.test('refused attempts change nothing; a pass clears the account; unknown counts for nothing', async (t) => {
  let rec = attempt(attempt(undefined, 0, 'failed'), 0, 'failed');
  t.equal(waitMs(rec, 500, ACCOUNT), 500, 'asking again does not prolong the wait');
  t.equal(waitMs(rec, 500, ACCOUNT), 500);
  t.equal(attempt(rec, 1_000, 'passed'), undefined, 'her own success clears the account');
  const source = attempt(attempt(undefined, 0, 'failed', SOURCE), 0, 'passed', SOURCE);
  t.equal(source!.failures, 1, 'but a source keeps its failures: one good account must not launder guesses');
  const before = failuresAt(rec!, 1_000, ACCOUNT);
  rec = attempt(rec, 1_000, 'unknown');
  t.equal(rec!.failures, before, 'the home could not answer: not a failure');
});

t.test('concurrent attempts are cut at the limit, not after it', async (t) => {
  let rec: ThrottleRecord | undefined;
  let admitted = 0;
  for (let i = 0; i < 50; i++) {
    if (waitMs(rec, 0, ACCOUNT) > 0) continue;
    rec = withStarted(rec, 0, ACCOUNT);
    admitted++;
  }
  t.equal(admitted, 5);
  t.equal(waitMs(rec, 0, ACCOUNT), 60_000, 'the others wait for a failure to drain');
  for (let i = 0; i < 5; i++) rec = withFinished(rec, 100, 'failed', ACCOUNT);
  t.equal(waitMs(rec, 100, ACCOUNT), 300_000, 'five failures: refused');
});

t.test('a steady trickle below the drain rate is never refused', async (t) => {
  let rec: ThrottleRecord | undefined;
  let refused = 0;
  // One failure every 7 s from a lab behind one address, for an hour: the limit drains one every 6 s.
  for (let at = 0; at < 3_600_000; at += 7_000) {
    if (waitMs(rec, at, SOURCE) > 0) refused++;
    rec = attempt(rec, at, 'failed', SOURCE);
  }
  t.equal(refused, 0);
});

t.test('LoginThrottle: per account from one source, per source; its memory is bounded', async (t) => {
  const throttle = new LoginThrottle({ failuresPerAccount: 2, failuresPerSource: 3, lockoutMs: 60_000, delayMs: 1_000 }, 100);
  const fail = (account: string, address: string, at: number): Admission => {
    const a = throttle.admit(account, address, at);
    if (a.admitted) throttle.finish(a.ticket, 'failed', at);
    return a;
  };
  t.equal(fail('alice:d', '10.0.0.1', 0).admitted, true);
  t.equal(fail('alice:d', '10.0.0.1', 0).admitted, true);
  t.match(fail('alice:d', '10.0.0.1', 0), { admitted: false, retryAfterMs: 60_000, scope: 'account' });
  t.equal(throttle.admit('alice:d', '10.0.0.2', 0).admitted, true, 'another address may still try her account');
  t.equal(fail('bob:d', '10.0.0.1', 0).admitted, true);
  t.match(throttle.admit('carol:d', '10.0.0.1', 0), { admitted: false, retryAfterMs: 60_000, scope: 'source' });

  for (let i = 0; i < 10_000; i++) fail(`u${i}:d`, `10.1.${i >> 8}.${i & 255}`, 1_000 + i);
  t.ok(throttle.size <= 200, `spraying accounts and addresses keeps at most 100 keys per scope (${throttle.size})`);
});

t.test('IPv6 sources count per /64; IPv4-mapped ones as IPv4', async (t) => {
  t.equal(sourceKeyOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.equal(sourceKeyOf('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  t.equal(sourceKeyOf('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(sourceKeyOf('::1'), '0:0:0:0::/64');
  t.equal(sourceKeyOf('::ffff:192.0.2.7'), '192.0.2.7');
  t.equal(sourceKeyOf('192.0.2.7'), '192.0.2.7');
});

t.test('the failure log: lines one by one, then one summary per source and period', async (t) => {
  const lines: string[] = [];
  const log = new LoginFailureLog((level, msg) => lines.push(`${level} ${msg}`), 60_000);
  for (let i = 0; i < 20; i++) log.failed(`u${i}:d`, '192.0.2.1', 'wrong password', 1_000 + i);
  log.failed('amy:d', '192.0.2.2', 'wrong password', 2_000);
  t.equal(lines.length, LINES_PER_SOURCE + 1);
  t.equal(lines[0], 'info web login failed for u0:d from 192.0.2.1: wrong password');
  log.failed('u20:d', '192.0.2.1', 'wrong password', 61_000);
  t.same(lines.slice(LINES_PER_SOURCE + 1), [
    'warn web login: 15 more failed logins from 192.0.2.1 in the last minute (last: u19:d)',
    'info web login failed for u20:d from 192.0.2.1: wrong password',
  ], 'a new period starts with the summary of the last');
  log.close();
  t.equal(lines.length, LINES_PER_SOURCE + 3, 'nothing left to summarise at close');
});

t.test('the failure log stays bounded whatever the number of sources', async (t) => {
  const lines: string[] = [];
  const log = new LoginFailureLog((level, msg) => lines.push(`${level} ${msg}`), 60_000);
  const sources = MAX_SUMMARISED_SOURCES + 500;
  for (let i = 0; i < sources * 2; i++) log.failed('x:d', `198.51.${(i % sources) >> 8}.${i % 256}`, 'wrong password', 1_000);
  t.equal(lines.length, LINES_PER_PERIOD, 'at most this many lines one by one per period');
  log.close();
  const summaries = lines.slice(LINES_PER_PERIOD);
  t.equal(summaries.length, MAX_SUMMARISED_SOURCES + 1, 'a line per counted source, one for all the others');
  const counted = summaries.reduce((n, l) => n + Number(/: (\d+) more/.exec(l)![1]), 0);
  t.equal(counted + LINES_PER_PERIOD, sources * 2, 'every failure counted once');
  t.match(summaries.at(-1), /^warn web login: \d+ more failed logins from other addresses in the last minute$/);
});
