/**
 * One local client that sends thousands of lines at once does not hold the
 * others: its lines run at most MAX_LINES_PER_TURN a loop turn, and another
 * client is served in between (lib/local/line-connection.ts).
 *
 * How it can tell without a clock: the daemon counts every answered request
 * (`loncapad_requests_total` on /metrics). In one synchronous step the test
 * writes 10,000 pings on client X's socket and then a /metrics request on a
 * web connection opened (and used once) beforehand: both are in the kernel
 * before the daemon reads either, X's first. Run in one go, the 10,000 would
 * all be answered before the scrape is read, and it would count 10,000; run
 * a turn at a time, the scrape is served between two turns (after the first
 * or the second) and counts whole turns. Then X must still get all 10,000
 * answers, in order.
 */
import { Agent } from 'node:http';
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
  // One connection, kept: the scrape during the burst needs no accept, only a read.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const answered = async (): Promise<number> => {
    const r = await http(d.host.ip, port, '/metrics', { agent });
    t.equal(r.status, 200);
    const line = r.body.split('\n').find((l) => l.startsWith(PINGS + ' '));
    return line === undefined ? 0 : Number(line.slice(PINGS.length + 1));
  };
  t.equal(await answered(), 0, 'no ping answered before the burst');

  const sock = createConnection(join(d.host.spool, 'loncapad.sock'));
  t.teardown(() => sock.destroy());
  sock.setEncoding('utf8');
  let text = '';
  let greeted: (() => void) | undefined;
  const greeting = new Promise<void>((r) => (greeted = r));
  let allHeard: (() => void) | undefined;
  const all = new Promise<void>((r) => (allHeard = r));
  sock.on('data', (s: string) => {
    text += s;
    const lines = text.split('\n').length - 1;
    if (lines >= 1) greeted?.();
    if (lines >= BURST + 1) allHeard?.();
  });
  await greeting;
  const burst = Array.from({ length: BURST }, (_, i) => `${i + 1} r 0 fair ping\n`).join('');
  t.ok(burst.length < 200_000, 'the burst fits in the socket buffer: one write puts it all there');
  t.ok(sock.write(burst), 'the whole burst went to the kernel at once');
  const scrape = answered(); // written on the kept connection before this process waits for anything

  // The first turn runs in the read that brought the burst, the next one at the end of that loop
  // iteration: the scrape comes after one or two turns (more only if this process was held
  // between the two writes above), and always between two turns.
  const between = await scrape;
  t.ok(between >= MAX_LINES_PER_TURN && between < BURST, `the scrape was served while the burst ran (${between} of ${BURST} answered then)`);
  t.equal(between % MAX_LINES_PER_TURN, 0, `between two turns of ${MAX_LINES_PER_TURN} lines`);

  await all;
  const lines = text.split('\n').slice(0, -1);
  t.match(lines[0], /^0 hello /);
  t.same(lines.slice(1), Array.from({ length: BURST }, (_, i) => `${i + 1} fair`), 'every ping answered, in order');
  t.equal(await answered(), BURST);
});
