/**
 * The password-check throttle (lib/commands/auth-throttle.ts, a pure policy
 * with an injected clock), the guard that applies it, and the fair limiter
 * that bounds concurrent hashes (lib/store/fair-limiter.ts).
 */
import t from 'tap';
import { AuthGuard } from '../lib/commands/auth-guard';
import { AuthThrottle } from '../lib/commands/auth-throttle';
import { FairLimiter } from '../lib/store/fair-limiter';

const SETTINGS = { perAccount: 3, perHost: 5, windowMs: 1000 };

/** `n` failed checks of `account` from `host` at `now`. */
function fail(th: AuthThrottle, account: string, host: string, n: number, now: number): void {
  for (let i = 0; i < n; i++) {
    if (th.begin(account, host, now) !== undefined) throw new Error(`throttled at failure ${i + 1}`);
    th.settle(account, host, 'failed', now);
  }
}

t.test('failures of one account throttle it from every host until its window ends', async (t) => {
  const th = new AuthThrottle(() => SETTINGS);
  fail(th, 'amy', 'acc1', 2, 0);
  fail(th, 'amy', 'acc2', 1, 10);
  t.equal(th.begin('amy', 'acc3', 20), 'account', 'a third host is refused too');
  t.equal(th.until('account', 'amy'), 1000);
  t.equal(th.begin('bob', 'acc1', 20), undefined, 'another account is not');
  th.settle('bob', 'acc1', 'ok', 20);
  t.equal(th.begin('amy', 'acc3', 999), 'account');
  t.equal(th.begin('amy', 'acc3', 1000), undefined, 'a new window');
});

t.test('failures from one host throttle it for every account', async (t) => {
  const th = new AuthThrottle(() => SETTINGS);
  ['a', 'b', 'c', 'd', 'e'].forEach((account) => fail(th, account, 'evil', 1, 0));
  t.equal(th.begin('f', 'evil', 1), 'host');
  t.equal(th.begin('f', 'good', 1), undefined, 'another host is not');
});

t.test('checks still running count against the limit: a burst starts at most the limit', async (t) => {
  const th = new AuthThrottle(() => SETTINGS);
  const started = Array.from({ length: 10 }, () => th.begin('amy', 'evil', 0)).filter((r) => r === undefined).length;
  t.equal(started, 3);
  for (let i = 0; i < 3; i++) th.settle('amy', 'evil', 'error', 0);
  t.equal(th.begin('amy', 'evil', 0), undefined, 'an error (nothing was checked) is not a failure');
});

t.test('a correct password clears the account count, not the host count', async (t) => {
  const th = new AuthThrottle(() => SETTINGS);
  fail(th, 'amy', 'acc1', 2, 0);
  t.equal(th.begin('amy', 'acc1', 0), undefined);
  th.settle('amy', 'acc1', 'ok', 0);
  fail(th, 'amy', 'acc1', 2, 0);
  t.equal(th.begin('bob', 'acc1', 0), undefined, 'amy could go on: her count was cleared; the host is at 4 of 5');
  th.settle('bob', 'acc1', 'failed', 0);
  t.equal(th.begin('carl', 'acc1', 0), 'host', "the host's count was not cleared");
});

t.test('memory is bounded: the least recently seen key is forgotten first', async (t) => {
  const th = new AuthThrottle(() => SETTINGS, 3);
  fail(th, 'amy', 'h', 3, 0);
  for (const a of ['x', 'y', 'z']) {
    th.begin(a, 'h2', 0);
    th.settle(a, 'h2', 'ok', 0);
  }
  t.same(th.size, { accounts: 3, hosts: 2 });
  t.equal(th.begin('amy', 'h3', 0), undefined, 'amy was the least recently seen: forgotten');
});

t.test('the guard: a throttled attempt runs no check; failures are delayed and logged once per account and host', async (t) => {
  const lines: string[] = [];
  let clock = 0;
  const guard = new AuthGuard({
    settings: () => ({ ...SETTINGS, failureDelayMs: 0 }),
    logRepeatMs: () => 60_000,
    warn: (l) => lines.push(l),
    now: () => clock,
  });
  let checks = 0;
  const wrong = async () => {
    checks++;
    return false;
  };
  const amy = { domain: 'd1', name: 'amy' };
  const results = await Promise.all(Array.from({ length: 50 }, () => guard.verify(amy, 'evil', wrong)));
  t.same(results, Array(50).fill(false));
  t.equal(checks, 3, 'only the account limit of checks ran');
  t.same(lines, [
    'auth throttled for amy in d1 from evil: 3 failed checks of the account in 1000 ms; non_authorized without a check until 1970-01-01T00:00:01.000Z',
    'auth failed for amy in d1 from evil',
  ]);
  await t.rejects(
    guard.verify({ domain: 'd1', name: 'bob' }, 'evil', async () => {
      throw new Error('busy');
    }),
    { message: 'busy' },
  );
  guard.close();
  t.same(lines.slice(2), [
    'auth throttled for amy in d1 from evil: 3 failed checks of the account in 1000 ms; non_authorized without a check until 1970-01-01T00:00:01.000Z (46 more times in the last 60 s)',
    'auth failed for amy in d1 from evil (2 more times in the last 60 s)',
  ]);
  clock = 1000;
  t.equal(await guard.verify(amy, 'evil', async () => true), true, 'after the window, checked again');
  guard.close();
});

t.test('the fair limiter: bounded running, lanes in turn, full lines refused as transient', async (t) => {
  const limiter = new FairLimiter({ maxRunning: 1, maxWaitingPerLane: 3, maxWaiting: 5, busy: 'busy' });
  const order: string[] = [];
  const gates: Array<() => void> = [];
  const task = (name: string) => () =>
    new Promise<string>((resolve) => {
      order.push(name);
      gates.push(() => resolve(name));
    });
  const done = [
    ...['e1', 'e2', 'e3', 'e4'].map((n) => limiter.run('evil', task(n))),
    limiter.run('good', task('g1')),
    limiter.run('other', task('o1')),
  ];
  await t.rejects(limiter.run('evil', task('e5')), { code: 'LC_ERR_TRANSIENT', message: 'busy' }, "evil's line is full");
  await t.rejects(limiter.run('third', task('t1')), { code: 'LC_ERR_TRANSIENT' }, 'all lines together are full');
  t.same(limiter.load, { running: 1, waiting: 5 });
  while (gates.length > 0) {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  t.same(await Promise.all(done), ['e1', 'e2', 'e3', 'e4', 'g1', 'o1']);
  t.same(order, ['e1', 'e2', 'g1', 'o1', 'e3', 'e4'], 'good and other waited one turn each, not behind all of evil');
});
