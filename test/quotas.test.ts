/**
 * Storage bounds through the network: a value larger than --max-value-bytes
 * and a write past a user's --user-quota-bytes are refused with a clear
 * `error:` before anything is written; `loncapad user show` reports usage.
 * Real daemons on 127.0.52.x: the library server home (small limits) and an
 * access server acc that sends the writes.
 */
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli';
import { makeNetwork, query } from './helpers/network';

const MAX_VALUE = 1000;
const QUOTA = 10_000;

t.test('storage limits', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'home', ip: '127.0.52.2', role: 'library' },
    { id: 'acc', ip: '127.0.52.3', role: 'access' },
  ]);
  const home = await net.start('home', ['--max-value-bytes', String(MAX_VALUE), '--user-quota-bytes', String(QUOTA)]);
  const acc = await net.start('acc');
  const client = await acc.client();
  t.teardown(() => client.close());
  const data = join(home.host.spool, 'data.sqlite');
  const rowsOf = (user: string) =>
    query(
      data,
      `SELECT (SELECT count(*) FROM kv WHERE name = @user) AS kv, (SELECT count(*) FROM records WHERE name = @user) AS records,
              (SELECT count(*) FROM history WHERE name = @user) AS history, (SELECT count(*) FROM activity WHERE name = @user) AS activity,
              (SELECT coalesce(sum(bytes), 0) FROM usage WHERE name = @user) AS usage`,
      { user },
    )[0];

  t.test('a value larger than the limit is refused, nothing written', async (t) => {
    const big = 'v'.repeat(MAX_VALUE + 1);
    const refused = `error:value longer than ${MAX_VALUE} characters`;
    t.equal(await client.reply('home', `put:d1:amy:big:k=${big}`), refused);
    t.equal(await client.reply('home', `newput:d1:amy:big:k=${big}`), refused);
    t.equal(await client.reply('home', `store:d1:amy:big:r1:k=${big}`), refused);
    t.equal(await client.critical('home', `put:d1:amy:big:small=1&k=${big}`), refused, 'a critical write is refused alike (not spooled)');
    t.equal(await client.reply('home', `tmpput:${big}`), `error:data longer than ${MAX_VALUE} characters`);
    t.same(rowsOf('amy'), { kv: 0, records: 0, history: 0, activity: 0, usage: 0 }, 'nothing written, nothing charged');
    t.same(query(data, 'SELECT count(*) AS n FROM tmp'), [{ n: 0 }]);
    t.same(query(join(acc.host.spool, 'spool.sqlite'), 'SELECT seq FROM queue UNION ALL SELECT seq FROM aside'), [], 'a refusal is an answer: nothing queued');
    t.equal(await client.reply('home', `put:d1:amy:big:k=${'v'.repeat(MAX_VALUE)}`), 'ok', 'the limit itself is fine');
    t.equal(await client.reply('home', 'del:d1:amy:big:k'), 'ok');
  });

  t.test('a user at her quota is refused, nothing written; deleting makes room', async (t) => {
    const before = rowsOf('bea');
    t.same(before, { kv: 0, records: 0, history: 0, activity: 0, usage: 0 });
    // Each put stores 2 + 990 bytes of pair and 3 + 990 of history.
    const value = 'x'.repeat(990);
    for (let i = 0; i < 5; i++) t.equal(await client.reply('home', `put:d1:bea:ns:k${i}=${value}`), 'ok');
    const full = rowsOf('bea');
    t.same(full, { kv: 5, records: 0, history: 5, activity: 0, usage: 5 * 1985 });
    const refused = `error:storage quota exceeded: bea in d1 stores 9925 of ${QUOTA} bytes; this write needs 1985 more`;
    t.equal(await client.reply('home', `put:d1:bea:ns:k5=${value}`), refused);
    t.equal(await client.critical('home', `put:d1:bea:ns:k5=${value}`), refused, 'critical: refused, not retried');
    t.equal(await client.reply('home', `store:d1:bea:ns:r:k=${value}`), `error:storage quota exceeded: bea in d1 stores 9925 of ${QUOTA} bytes; this write needs 1987 more`);
    t.equal(await client.reply('home', `log:d1:bea:${'y'.repeat(100)}`), `error:storage quota exceeded: bea in d1 stores 9925 of ${QUOTA} bytes; this write needs 100 more`);
    t.same(rowsOf('bea'), full, 'nothing written, nothing charged');
    t.equal(await client.reply('home', `put:d1:cid:ns:k0=${value}`), 'ok', 'another user is not affected');
    t.equal(await client.reply('home', 'del:d1:bea:ns:k0&k1'), 'ok', 'deleting is never refused');
    t.equal(rowsOf('bea').usage, 9925 - 2 * 992 + 'k0&k1'.length);
    t.equal(await client.reply('home', `put:d1:bea:ns:k5=${value}`), 'ok', 'room again');
  });

  t.test('loncapad user show reports usage and quota', async (t) => {
    t.equal(await home.call('.', 'makeuser:d1:bea:none:'), 'ok');
    const bytes = rowsOf('bea').usage as number;
    t.same(await runCli(['user', 'show', 'bea', 'd1', '--home', 'home', '--spool', acc.host.spool]), {
      code: 0,
      stdout: `user    bea\ndomain  d1\nhome    home\nauth    none\nusage   ${bytes} of ${QUOTA} bytes (${((100 * bytes) / QUOTA).toFixed(1)} %)\n`,
      stderr: '',
    });
    t.same(await runCli(['user', 'show', 'bea', 'd1', '--json', '--spool', acc.host.spool]), {
      code: 0,
      stdout: `${JSON.stringify({ user: 'bea', domain: 'd1', home: 'home', auth: { type: 'none', arg: '' }, usage: { bytes, quotaBytes: QUOTA } })}\n`,
      stderr: '',
    });
    t.equal(await client.reply('home', 'usage:d1:nobody'), `bytes=0&quota=${QUOTA}`);
  });
});
