/**
 * The age of a peer's oldest waiting message (Spool.oldest: the
 * `loncapad_spool_oldest_age_seconds` gauge) counts only messages still
 * waiting. A delivered row is deleted with the spool's next commit, a turn
 * or a sync later; in between, a scrape saw the spool empty
 * (`spool_depth` 0) and its oldest message a second old at once.
 */
import { join } from 'node:path';
import t from 'tap';
import { Spool } from '../lib/spool';
import { shortTempDir } from './helpers/network';

t.test('delivered and set-aside rows stop counting at once, not at the next commit', async (t) => {
  const spool = new Spool(join(shortTempDir(t), 'spool.sqlite'));
  t.teardown(() => spool.close());
  await spool.enqueue('p', 'm1', 'put:d1:amy:ns:k=1', 1_000);
  await spool.enqueue('p', 'm2', 'put:d1:amy:ns:k=2', 2_000);
  await spool.enqueue('q', 'm3', 'put:d1:amy:ns:k=3', 3_000);
  t.equal(spool.oldest('p'), 1_000);

  const [first, second] = spool.readBatch('p', 0, 10);
  spool.delivered(first!);
  t.equal(spool.oldest('p'), 2_000, 'the delivered row no longer waits (its delete is not committed yet)');
  spool.setAside(second!, 'failed', 'error:bad');
  t.equal(spool.oldest('p'), undefined, 'nor does the row set aside');
  t.equal(spool.oldest('q'), 3_000, "another peer's row is not touched");

  spool.flush(true);
  t.equal(spool.oldest('p'), undefined, 'after the commit: the same');
  t.same(
    spool.db.prepare('SELECT peer, msgid FROM queue ORDER BY seq').all(),
    [{ peer: 'q', msgid: 'm3' }],
    'and the rows are gone from the queue',
  );
  t.same(spool.db.prepare('SELECT msgid, reason FROM aside').all(), [{ msgid: 'm2', reason: 'failed' }]);
});
