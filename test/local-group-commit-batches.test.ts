/**
 * The batching rules of lib/commands/local-group-commit.ts, exactly: a
 * runner that records each batch and whose syncs the test releases, so what
 * runs when is known. (test/local-group-commit.test.ts checks the same path
 * in a real daemon, with its database and its syncs.)
 */
import t from 'tap';
import type { BatchItem, BatchResult, Invocation } from '../lib/commands/dispatch';
import { LocalGroupCommit, MAX_COMMANDS_PER_BATCH } from '../lib/commands/local-group-commit';
import { createLogger } from '../lib/log';

function harness() {
  const batches: string[][] = [];
  const syncs: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  interface Line {
    readonly line: string;
    readonly writes: boolean;
  }
  const runner = {
    parse: (line: string): Line => ({ line, writes: line.startsWith('put') }),
    execute: (command: Line) => `ran ${command.line}`,
    runBatch: (items: ReadonlyArray<BatchItem<Line>>): BatchResult => {
      batches.push(items.map((i) => i.command.line));
      const replies = items.map((i) => `batched ${i.command.line}`);
      if (!items.some((i) => i.command.writes)) return { replies };
      return { replies, durable: new Promise<void>((resolve, reject) => syncs.push({ resolve, reject })) };
    },
  };
  const errors: string[] = [];
  const log = createLogger('error', (line) => void errors.push(line));
  const group = new LocalGroupCommit(runner, log);
  const inv = (origin?: object): Invocation => ({ caller: 'h', callerRole: 'library', local: true, manager: true, served: 'h', origin });
  /** Let the loop run its turns (the batch runs in setImmediate, answers in promise callbacks). */
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Turns until `done` holds (at most 10). */
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 10 && !done(); i++) await turn();
  };
  return { batches, syncs, errors, log, group, inv, turn, until };
}

t.test('the writes of a turn are one batch; their replies wait for its sync', async (t) => {
  const h = harness();
  const a = {};
  const b = {};
  const heard: string[] = [];
  const p1 = Promise.resolve(h.group.run('put 1', h.inv(a))).then((r) => heard.push(r));
  const p2 = Promise.resolve(h.group.run('put 2', h.inv(b))).then((r) => heard.push(r));
  t.same(h.batches, [], 'nothing runs before the turn ends');
  await h.turn();
  t.same(h.batches, [['put 1', 'put 2']], 'one batch');
  await h.turn();
  t.same(heard, [], 'no reply before the sync');
  h.syncs[0]!.resolve();
  await Promise.all([p1, p2]);
  t.same(heard, ['batched put 1', 'batched put 2']);
});

t.test('a read waits behind its own connection\'s write only', async (t) => {
  const h = harness();
  const a = {};
  const b = {};
  const put = h.group.run('put x', h.inv(a));
  t.equal(h.group.run('get x', h.inv(b)), 'ran get x', "another connection's read runs at once");
  const ownRead = h.group.run('get x', h.inv(a));
  t.type(ownRead, Promise, 'its own read waits');
  const noOrigin = h.group.run('get y', h.inv());
  t.type(noOrigin, Promise, 'a read from no known connection waits behind any queued write');
  await h.turn();
  t.same(h.batches, [['put x', 'get x', 'get y']], 'in arrival order, in the write\'s batch');
  h.syncs[0]!.resolve();
  t.same(await Promise.all([put, ownRead, noOrigin]), ['batched put x', 'batched get x', 'batched get y']);
  t.equal(h.group.run('get x', h.inv(a)), 'ran get x', 'with nothing queued, its reads run at once again');
});

t.test('while a batch syncs the next one gathers; no batch is over the limit', async (t) => {
  const h = harness();
  const first = h.group.run('put first', h.inv({}));
  await h.turn();
  t.same(h.batches, [['put first']]);
  // The sync is held: a burst from one connection queues behind it, a read last.
  const conn = {};
  const n = MAX_COMMANDS_PER_BATCH * 2 + 10;
  const burst = Array.from({ length: n }, (_, i) => h.group.run(`put ${i}`, h.inv(conn)));
  const readLast = h.group.run('get last', h.inv(conn));
  await h.turn();
  t.equal(h.batches.length, 1, 'nothing commits while the sync runs');
  h.syncs[0]!.resolve();
  t.equal(await first, 'batched put first');
  await h.until(() => h.batches.length === 2);
  t.equal(h.batches.length, 2, 'the burst\'s first batch is taken');
  const readMid = h.group.run('get mid', h.inv(conn));
  t.type(readMid, Promise, 'a read of that connection still waits: more of its writes are queued');
  // Each batch's sync is released as soon as it starts, until the burst is through.
  for (let released = 1, turns = 0; h.batches.length < 4 && turns < 20; turns++) {
    while (released < h.syncs.length) h.syncs[released++]!.resolve();
    await h.turn();
  }
  t.same(h.batches.slice(1).map((b) => b.length), [MAX_COMMANDS_PER_BATCH, MAX_COMMANDS_PER_BATCH, n - 2 * MAX_COMMANDS_PER_BATCH + 2], `batches of at most ${MAX_COMMANDS_PER_BATCH}`);
  t.same(h.batches.slice(1).flat(), [...Array.from({ length: n }, (_, i) => `put ${i}`), 'get last', 'get mid'], 'in arrival order');
  h.syncs.at(-1)!.resolve();
  t.equal((await Promise.all(burst)).length, n);
  t.same(await Promise.all([readLast, readMid]), ['batched get last', 'batched get mid'], 'the reads behind the burst ran after it');
});

t.test('a failed sync answers every command of its batch transient', async (t) => {
  const h = harness();
  const replies = [h.group.run('put a', h.inv({})), h.group.run('put b', h.inv({}))];
  await h.turn();
  h.syncs[0]!.reject(new Error('EIO'));
  t.same(await Promise.all(replies), ['error:transient:store sync failed', 'error:transient:store sync failed']);
  h.log.flush();
  t.match(h.errors.join(''), /store sync failed: EIO/, 'and it is logged');
  // The next batch is not held back by the failed one.
  const next = h.group.run('put c', h.inv({}));
  await h.turn();
  h.syncs[1]!.resolve();
  t.equal(await next, 'batched put c');
});
