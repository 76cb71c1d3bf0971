/**
 * Two daemons on real loopback addresses: requests through both local socket
 * kinds, pong through the answering host's own link, the classic replies for
 * unknown hosts and commands, status, and pipelining on one connection.
 */
import { createConnection } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { makeNetwork } from './helpers/network';
import { waitFor } from './helpers/wait';

/** One classic exchange: write lines, read as many reply lines. */
function classic(path: string, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => {
      buf += s;
      const got = buf.split('\n').slice(0, -1);
      if (got.length >= lines.length) {
        sock.end();
        resolve(got);
      }
    });
    sock.on('error', reject);
    sock.write(lines.map((l) => l + '\n').join(''));
  });
}

t.test('two daemons', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.1.2' },
    { id: 'beta', ip: '127.0.1.3', role: 'access' },
  ]);
  const a = await net.start('alpha');
  const b = await net.start('beta');

  t.test('ping through the multiplexed socket', async (t) => {
    t.equal(await a.call('beta', 'ping'), 'beta');
    t.equal(await a.call('alpha', 'ping'), 'alpha', 'a command to this host runs here');
    t.equal(await a.call('.', 'ping'), 'alpha', '"." is this daemon');
  });

  t.test('ping through the classic per-peer socket, several lines on one connection', async (t) => {
    const replies = await classic(join(a.host.spool, 'sock', 'beta'), ['ping', 'sethost:beta:ping', 'encrypt:ping', 'bogus', 'ping']);
    t.same(replies, ['beta', 'beta', 'beta', 'unknown_cmd', 'beta']);
    t.same(await classic(join(a.host.spool, 'sock', 'alpha'), ['ping']), ['alpha']);
    t.same(await classic(join(a.host.spool, 'sock', 'beta'), ['sethost:gamma:ping']), ['unable_to_set']);
  });

  t.test('pong pings the caller back through the answering host', async (t) => {
    t.equal(await a.call('beta', 'pong'), 'beta:alpha');
    t.equal(await b.call('alpha', 'pong'), 'alpha:beta');
  });

  t.test('classic replies', async (t) => {
    t.equal(await a.call('nosuch', 'ping'), 'no_such_host');
    t.equal(await a.call('beta', 'frobnicate:x'), 'unknown_cmd');
    t.equal(await a.call('beta', 'status'), 'refused', 'local-only commands are refused to peers');
    t.match(await a.call('beta', 'version'), /^version:\d+\.\d+\.\d+$/);
    t.match(await a.call('beta', 'load'), /^\d+(\.\d+)?$/);
    t.equal(await a.call('beta', 'userload'), '0');
    t.equal(await a.call('beta', 'sethost:beta'), 'ok');
    t.equal(await a.call('beta', 'sethost:alpha'), 'unable_to_set');
  });

  t.test('user data through the network', async (t) => {
    t.equal(await a.call('beta', 'put:d1:amy:grades:hw1=10&hw2=7'), 'ok');
    t.equal(await a.call('beta', 'get:d1:amy:grades:hw2&nope&hw1'), '7&&10');
    t.equal(await a.call('beta', 'inc:d1:amy:grades:hw1=5&visits'), 'ok');
    t.equal(await a.call('beta', 'get:d1:amy:grades:hw1&visits'), '15&1');
    t.equal(await a.call('beta', 'log:d1:amy:submitted%20hw1'), 'ok');
  });

  t.test('a large reply arrives whole (sent in fragments)', async (t) => {
    const big = 'x'.repeat(300_000) + '%F0%9F%98%80';
    t.equal(await a.call('beta', `put:d1:amy:big:v=${big}`), 'ok');
    const c = await a.client();
    const [got, ping] = await Promise.all([c.reply('beta', 'get:d1:amy:big:v'), c.reply('beta', 'ping')]);
    await c.close();
    t.equal(got.length, big.length);
    t.equal(got, big);
    t.equal(ping, 'beta');
  });

  t.test('many requests in flight on one connection', async (t) => {
    const c = await a.client();
    const n = 500;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => c.reply(i % 2 ? 'beta' : 'alpha', 'ping')));
    await c.close();
    t.same(replies, Array.from({ length: n }, (_, i) => (i % 2 ? 'beta' : 'alpha')));
  });

  t.test('the process title shows the state', async (t) => {
    const { readFileSync } = await import('node:fs');
    const title = await waitFor('title with the link up', () => {
      const text = readFileSync(`/proc/${a.proc.pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      return /^loncapad alpha: 1 up, 0 dead, 0 spooled/.test(text) ? text : undefined;
    });
    t.match(title, /^loncapad alpha: 1 up, 0 dead, 0 spooled/);
  });

  t.test('status', async (t) => {
    const s = await a.status();
    t.equal(s.hostId, 'alpha');
    t.equal(s.peers.length, 1);
    t.equal(s.peers[0]!.peer, 'beta');
    t.equal(s.peers[0]!.state, 'up');
    t.equal(s.peers[0]!.queue, 0);
  });
});
