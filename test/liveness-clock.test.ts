/**
 * The shared liveness clock on its own: every member is checked once per
 * period, a fixed slice a tick (so keep-alives go out in bounded groups);
 * members dropped by a tick, their own or another's, are not checked again;
 * the timer runs only while there are members.
 */
import t from 'tap';
import { LivenessClock, SLICES } from '../lib/peers/liveness-clock';
import { waitFor } from './helpers/wait';

/** Each tick's `now` is its own number, so the test can tell ticks apart. */
function clockWithTickNumbers(periodMs = 16) {
  let tick = 0;
  const clock = new LivenessClock(() => periodMs, () => ++tick);
  const seen: Array<{ tick: number; member: number }> = [];
  const member = (id: number) => ({ tick: (now: number) => void seen.push({ tick: now, member: id }) });
  return { clock, seen, member, ticks: () => tick };
}

t.test('each member once a period, one slice a tick', async (t) => {
  const { clock, seen, member, ticks } = clockWithTickNumbers();
  const n = 3 * SLICES + 2;
  const members = Array.from({ length: n }, (_, i) => member(i));
  for (const m of members) clock.add(m);
  clock.add(members[0]!); // a second add changes nothing
  t.equal(clock.size, n);
  await waitFor('three periods of ticks', () => ticks() >= 3 * SLICES);
  clock.stop();
  const byTick = new Map<number, number[]>();
  for (const s of seen) byTick.set(s.tick, [...(byTick.get(s.tick) ?? []), s.member]);
  for (let first = 1; first + SLICES - 1 <= ticks() - 1; first += SLICES) {
    const round: number[] = [];
    for (let k = first; k < first + SLICES; k++) {
      const slice = byTick.get(k) ?? [];
      t.ok(slice.length <= Math.ceil(n / SLICES), `tick ${k} checks at most a slice (${slice.length})`);
      round.push(...slice);
    }
    t.same(round.sort((a, b) => a - b), members.map((_, i) => i), `ticks ${first}–${first + SLICES - 1}: every member exactly once`);
  }
  t.same(byTick.get(1), byTick.get(1 + SLICES), 'a member keeps its slice');
});

t.test('members dropped during a tick are not checked again; the timer stops with the last', async (t) => {
  const { clock, seen, ticks } = clockWithTickNumbers();
  const order: string[] = [];
  // a and b share slice 0 (a added first, b after SLICES - 1 fillers); a drops b, then itself.
  const b = { tick: () => void order.push('b') };
  const a = {
    tick: () => {
      order.push('a');
      clock.delete(b);
      clock.delete(a);
    },
  };
  clock.add(a);
  const fillers = Array.from({ length: SLICES - 1 }, (_, i) => ({ tick: (now: number) => void seen.push({ tick: now, member: i }) }));
  for (const f of fillers) clock.add(f);
  clock.add(b);
  t.ok(clock.running, 'armed with members');
  await waitFor('two periods', () => ticks() >= 2 * SLICES + 1);
  t.same(order, ['a'], 'b, dropped by a in the same tick, was never checked; a not again');
  for (const f of fillers) clock.delete(f);
  t.equal(clock.size, 0);
  t.notOk(clock.running, 'no members, no timer');
  clock.add(b);
  t.ok(clock.running, 'armed again by the next member');
  clock.stop();
});
