import t from 'tap';
import { performance } from 'node:perf_hooks';
import { DeadlineQueue, type Deadlined } from '../lib/deadline-queue';

interface Item extends Deadlined {
  readonly name: string;
}

const item = (name: string): Item => ({ name, deadline: 0, done: false });

/** A queue whose expiries are recorded, with a promise for the next `n` of them. */
function recorded() {
  const expired: Array<{ name: string; lateMs: number }> = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  const q = new DeadlineQueue<Item>((i) => {
    expired.push({ name: i.name, lateMs: performance.now() - i.deadline });
    if (waiting && expired.length >= waiting.n) waiting.resolve();
  });
  const expiries = (n: number) => new Promise<void>((resolve) => (expired.length >= n ? resolve() : (waiting = { n, resolve })));
  const settle = (i: Item) => {
    i.done = true;
    q.settled();
  };
  return { q, expired, expiries, settle };
}

t.test('items expire in deadline order, shorter timeouts first, settled ones never', async (t) => {
  const { q, expired, expiries, settle } = recorded();
  const a = item('a');
  const b = item('b');
  const c = item('c');
  const d = item('d');
  q.add(a, 60);
  q.add(b, 40);
  q.add(c, 20); // inserted before a and b
  q.add(d, 30);
  settle(d);
  t.equal(q.size, 3);
  await expiries(3);
  t.same(expired.map((e) => e.name), ['c', 'b', 'a']);
  t.ok(expired.every((e) => e.lateMs >= 0), 'none before its deadline');
  t.equal(q.size, 0);
});

t.test('a request stuck at the front does not keep the settled ones behind it, and still expires', async (t) => {
  const { q, expired, expiries, settle } = recorded();
  const stuck = item('stuck');
  q.add(stuck, 80);
  const others = Array.from({ length: 5000 }, (_, i) => item(`o${i}`));
  for (const o of others) q.add(o, 60_000);
  for (const o of others) settle(o);
  t.equal(q.size, 1, 'only the stuck one is live');
  const late = item('late');
  q.add(late, 100);
  await expiries(2);
  t.same(expired.map((e) => e.name), ['stuck', 'late']);
  t.equal(q.size, 0);
});

t.test('clear stops every deadline', async (t) => {
  const { q, expired, expiries } = recorded();
  q.add(item('gone'), 10);
  q.clear();
  q.add(item('kept'), 30);
  await expiries(1);
  t.same(expired.map((e) => e.name), ['kept']);
});
