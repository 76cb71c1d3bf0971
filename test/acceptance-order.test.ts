/**
 * The spool's acceptance order (lib/spool/acceptance-order.ts): a message's
 * `prior` settles exactly when every message accepted before it for the
 * same peer is decided, whatever order they are decided in.
 */
import t from 'tap';
import { AcceptanceOrder, type Turn } from '../lib/spool/acceptance-order';

/** Let every pending promise reaction run (a turn of the event loop). */
const aTurnLater = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Which of `turns` have their `prior` settled now. */
async function settled(turns: readonly Turn[]): Promise<boolean[]> {
  const flags = turns.map(() => false);
  turns.forEach((turn, i) => void turn.prior.then(() => (flags[i] = true)));
  await aTurnLater();
  return flags;
}

t.test('a prior settles once every earlier turn of its peer is decided, in any order', async (t) => {
  const order = new AcceptanceOrder();
  const [a, b, c, d] = [order.take('p'), order.take('p'), order.take('p'), order.take('p')] as [Turn, Turn, Turn, Turn];
  const other = order.take('q');
  t.same(await settled([a, b, c, d, other]), [true, false, false, false, true], 'the first of each peer waits for nothing');
  c.decided(); // answered live before the earlier ones are decided
  t.same(await settled([b, c, d]), [false, false, false], 'a later turn decided first frees nobody');
  a.decided();
  t.same(await settled([b, c, d]), [true, false, false], 'b is next');
  b.decided();
  t.same(await settled([c, d]), [true, true], 'c was decided already: d is free too');
  d.decided();
  const e = order.take('p');
  t.same(await settled([e]), [true], 'a line that emptied starts again');
});

t.test('a prior asked before its turn comes settles when it comes, not before', async (t) => {
  const order = new AcceptanceOrder();
  const turns = Array.from({ length: 200 }, () => order.take('p'));
  const seen: number[] = [];
  turns.forEach((turn, i) => void turn.prior.then(() => seen.push(i)));
  // Decided in a scrambled order: each prior must settle exactly when all before it are decided.
  const decideOrder = turns.map((_, i) => i).sort((x, y) => ((x * 7919) % 200) - ((y * 7919) % 200));
  const decided = new Set<number>();
  for (const i of decideOrder) {
    turns[i]!.decided();
    turns[i]!.decided(); // twice is harmless
    decided.add(i);
    await aTurnLater();
    let front = 0;
    while (decided.has(front)) front++;
    const expected = Array.from({ length: Math.min(front + 1, 200) }, (_, k) => k);
    t.same([...seen].sort((x, y) => x - y), expected, `after deciding ${i}`);
  }
});
