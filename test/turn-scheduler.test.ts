/**
 * The per-turn budget shared by every dump's matching (lib/commands/turn-scheduler.ts),
 * driven by a fake clock (each step costs 1 ms) and a fake event loop (turns
 * run when the test says), so the order of work is exact.
 */
import t from 'tap';
import { TurnScheduler, type SlicedJob } from '../lib/commands/turn-scheduler';

function harness(options: { turnBudgetMs: number; sliceMs: number; maxActive: number }) {
  let clock = 0;
  const turns: Array<() => void> = [];
  const log: string[] = [];
  const scheduler = new TurnScheduler({ ...options, now: () => clock, defer: (fn) => turns.push(fn) });
  /** A job of `steps` steps of 1 ms each, logging `<name><step>`. */
  const job = (name: string, steps: number, failAt?: number): SlicedJob => {
    let done = 0;
    return {
      step() {
        clock += 1;
        done++;
        if (done === failAt) throw new Error(`${name} failed`);
        log.push(`${name}${done}`);
        return done === steps;
      },
    };
  };
  /** Run one event-loop turn; answers what it did. */
  const turn = (): string[] => {
    const before = log.length;
    turns.shift()!();
    return log.slice(before);
  };
  return { scheduler, job, turn, pendingTurns: () => turns.length };
}

t.test('jobs take turns in slices under one budget per turn', async (t) => {
  const h = harness({ turnBudgetMs: 4, sliceMs: 2, maxActive: 8 });
  const done: string[] = [];
  const a = h.scheduler.run(h.job('a', 5)).then(() => done.push('a'));
  const b = h.scheduler.run(h.job('b', 3)).then(() => done.push('b'));
  t.equal(h.pendingTurns(), 1, 'one turn scheduled for both');
  t.same(h.turn(), ['a1', 'a2', 'b1', 'b2'], 'a slice each, then the budget is spent');
  t.same(h.turn(), ['a3', 'a4', 'b3', 'a5'], 'round-robin resumes where it stopped; budget left goes to who remains');
  t.equal(h.pendingTurns(), 0, 'nothing left to schedule');
  await Promise.all([a, b]);
  t.same(done, ['b', 'a']);
});

t.test('every turn makes progress, even when one step is longer than the budget', async (t) => {
  const h = harness({ turnBudgetMs: 0.5, sliceMs: 0.5, maxActive: 8 });
  const a = h.scheduler.run(h.job('a', 2));
  t.same(h.turn(), ['a1']);
  t.same(h.turn(), ['a2']);
  await a;
});

t.test('beyond maxActive, jobs wait in arrival order without starting', async (t) => {
  const h = harness({ turnBudgetMs: 100, sliceMs: 1, maxActive: 2 });
  const all = Promise.all(['a', 'b', 'c'].map((n) => h.scheduler.run(h.job(n, 2))));
  t.same(h.turn(), ['a1', 'b1', 'a2', 'b2', 'c1', 'c2'], 'c starts only when a place is free');
  await all;
});

t.test('a failing step rejects its job alone', async (t) => {
  const h = harness({ turnBudgetMs: 100, sliceMs: 1, maxActive: 8 });
  const a = h.scheduler.run(h.job('a', 3, 2));
  const b = h.scheduler.run(h.job('b', 2));
  t.same(h.turn(), ['a1', 'b1', 'b2']);
  await t.rejects(a, { message: 'a failed' });
  await b;
  t.equal(h.scheduler.size, 0);
});
