/**
 * One local client that sends thousands of lines at once does not hold the
 * others: its lines run at most MAX_LINES_PER_TURN a loop turn, and another
 * client is served in between (lib/local/line-connection.ts).
 *
 * How it can tell without a clock: the daemon counts every answered request
 * (`loncapad_requests_total` on /metrics). Client X writes 10,000 pings in
 * one write; they all sit in the socket before the daemon reads them. As
 * soon as X hears its first reply, the test scrapes /metrics. Run in one go,
 * the 10,000 would all be answered before X heard anything (their replies
 * are made after the read that brought them), so the scrape would count
 * 10,000; run a turn at a time, the scrape is served between turns and
 * counts fewer. Then X must still get all 10,000 answers, in order.
 */
import { createConnection } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { MAX_LINES_PER_TURN } from '../lib/local/line-connection';
import { http } from './helpers/http';
import { makeNetwork, webPort } from './helpers/network';

const BURST = 10_000;
const PINGS = 'loncapad_requests_total{peer="fair",command="ping",result="answered"}';

t.test('a burst of lines from one client is run a turn at a time', async (t) => {
  const net = await makeNetwork(t, [{ id: 'fair', ip: '127.0.81.2' }]);
  const port = webPort(18780);
  const d = await net.start('fair', ['--http-port', String(port)]);
  const answered = async (): Promise<number> => {
    const r = await http(d.host.ip, port, '/metrics');
    t.equal(r.status, 200);
    const line = r.body.split('\n').find((l) => l.startsWith(PINGS + ' '));
    return line === undefined ? 0 : Number(line.slice(PINGS.length + 1));
  };
  t.equal(await answered(), 0, 'no ping answered before the burst');

  const sock = createConnection(join(d.host.spool, 'loncapad.sock'));
  t.teardown(() => sock.destroy());
  sock.setEncoding('utf8');
  let text = '';
  let firstHeard: (() => void) | undefined;
  const first = new Promise<void>((r) => (firstHeard = r));
  let allHeard: (() => void) | undefined;
  const all = new Promise<void>((r) => (allHeard = r));
  sock.on('data', (s: string) => {
    text += s;
    const lines = text.split('\n').length - 1;
    if (lines >= 2) firstHeard?.(); // the greeting, then a reply
    if (lines >= BURST + 1) allHeard?.();
  });
  const burst = Array.from({ length: BURST }, (_, i) => `${i + 1} r 0 fair ping\n`).join('');
  t.ok(burst.length < 200_000, 'the burst fits in the socket buffer: one write puts it all there');
  sock.write(burst);

  await first;
  const between = await answered();
  t.ok(between < BURST, `the scrape was served while the burst ran (${between} of ${BURST} answered then)`);
  t.ok(between >= MAX_LINES_PER_TURN, `at least one turn of the burst ran before X heard a reply (${between})`);

  await all;
  const lines = text.split('\n').slice(0, -1);
  t.match(lines[0], /^0 hello /);
  t.same(lines.slice(1), Array.from({ length: BURST }, (_, i) => `${i + 1} fair`), 'every ping answered, in order');
  t.equal(await answered(), BURST);
});
