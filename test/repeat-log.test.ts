/** Log lines an offender can repeat: once per key and period, repeats summed up, bounded. */
import t from 'tap';
import { createLogger } from '../lib/log';
import { RefusalLog } from '../lib/peers';
import { RepeatLog } from '../lib/repeat-log';
import { waitFor } from './helpers/wait';

function logOf(periodMs: number, maxKeys = 10) {
  const lines: string[] = [];
  let built = 0;
  const log = new RepeatLog({ periodMs: () => periodMs, maxKeys, write: (l) => lines.push(l) });
  t.teardown(() => log.close());
  const note = (key: string) =>
    log.note(key, () => {
      built++;
      return `event ${key}`;
    });
  return { log, lines, note, built: () => built };
}

t.test('the first occurrence is written at once, repeats are summed up at the end of the period', async (t) => {
  const { log, lines, note, built } = logOf(60_000);
  for (let i = 0; i < 5; i++) note('a');
  note('b');
  t.same(lines, ['event a', 'event b']);
  t.equal(built(), 2, 'a line is built only when it is written');
  log.flush();
  t.same(lines.slice(2), ['event a (4 more times in the last 60 s)'], 'b did not repeat: no summary');
  note('a');
  t.same(lines.slice(3), ['event a'], 'a new period logs the first occurrence again');
});

t.test('keys beyond the bound are counted together', async (t) => {
  const { log, lines, note } = logOf(60_000, 2);
  for (const key of ['a', 'b', 'c', 'd', 'c', 'a']) note(key);
  t.same(lines, ['event a', 'event b']);
  log.flush();
  t.same(lines.slice(2), ['event a (1 more time in the last 60 s)', '… and 3 more like these in the last 60 s, not listed one by one']);
});

t.test('the period ends by itself', async () => {
  const { lines, note } = logOf(50);
  note('a');
  note('a');
  await waitFor('the summary', () => lines.includes('event a (1 more time in the last 50 ms)'));
});

t.test('refused peer connections: one line per kind (address and reason, digits aside), its own words for the sums', async (t) => {
  const lines: string[] = [];
  const log = createLogger('warn', (text) => lines.push(...text.trimEnd().split('\n').map((l) => l.replace(/^\S+ /, ''))));
  const refusals = new RefusalLog(log);
  t.teardown(() => refusals.flush());
  refusals.note('127.0.0.9', 'not listed');
  refusals.note('127.0.0.9', 'not listed');
  refusals.note('127.0.0.9', 'frame of 600 bytes exceeds 512');
  refusals.note('127.0.0.9', 'frame of 700 bytes exceeds 512');
  refusals.note('127.0.0.8', 'not listed');
  for (let i = 0; i < 256; i++) refusals.note(`10.0.${i >> 8}.${i & 255}`, 'not listed');
  refusals.flush();
  log.flush();
  t.same(lines.slice(0, 3), [
    'warn refused peer connection from 127.0.0.9: not listed',
    'warn refused peer connection from 127.0.0.9: frame of 600 bytes exceeds 512',
    'warn refused peer connection from 127.0.0.8: not listed',
  ]);
  t.same(lines.slice(256), [
    'warn refused 1 more peer connection(s) from 127.0.0.9 in the last 60 s: not listed',
    'warn refused 1 more peer connection(s) from 127.0.0.9 in the last 60 s: frame of 600 bytes exceeds 512',
    'warn refused 3 more peer connection(s) of other kinds in the last 60 s',
  ]);
});
