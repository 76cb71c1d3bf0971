/**
 * The handshake pacer on its own: dialing slots are given in order and come
 * back once each, and crypto steps past a turn's budget wait for the next
 * turn, in order, with at least one step each turn.
 */
import t from 'tap';
import { HandshakePacer } from '../lib/peers';

/** A clock the test moves: a step "takes" the time it adds. */
let clock = 0;
const now = () => clock;
const takes = (ms: number) => (clock += ms);
/** The next loop turn, after the pacer's own end-of-turn work. */
const nextTurn = () => new Promise((r) => setImmediate(() => setImmediate(r)));

t.test('dialing slots', async (t) => {
  const pacer = new HandshakePacer({ maxDialing: 2, turnBudgetMs: 8, now });
  const started: string[] = [];
  const a = pacer.dial(() => started.push('a'));
  pacer.dial(() => started.push('b'));
  const c = pacer.dial(() => started.push('c'));
  pacer.dial(() => started.push('d'));
  t.same(started, ['a', 'b'], 'two at once');
  t.same(pacer.load, { dialing: 2, waiting: 2, steps: 0 });
  c(); // c gives up its wait
  a();
  a(); // a second call changes nothing
  t.same(started, ['a', 'b', 'd'], 'the next still waiting takes the freed slot, in order');
  t.same(pacer.load, { dialing: 2, waiting: 0, steps: 0 });
});

t.test('crypto steps share a budget per loop turn', async (t) => {
  const pacer = new HandshakePacer({ maxDialing: 2, turnBudgetMs: 8, now });
  const ran: string[] = [];
  for (const name of ['s1', 's2', 's3', 's4']) pacer.step(() => (takes(5), ran.push(name)));
  t.same(ran, ['s1', 's2'], 'steps run at once while the turn has budget (5 + 5 ms: the third is past 8)');
  await nextTurn();
  t.same(ran, ['s1', 's2', 's3', 's4'], 'the rest in the next turn, in order');
  await nextTurn();
  const one: string[] = [];
  pacer.step(() => (takes(20), one.push('big')));
  pacer.step(() => one.push('after'));
  t.same(one, ['big'], 'a step as large as the whole budget still runs');
  await nextTurn();
  t.same(one, ['big', 'after'], 'and the next waits for the next turn');
});
