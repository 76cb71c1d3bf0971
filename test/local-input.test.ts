/**
 * Bad input on the local sockets: malformed and oversized lines get an
 * error in the classic vocabulary, only the offending connection closes, and
 * every other client keeps being served. Also the client library's error
 * when no daemon runs, and `loncapad call`'s exit codes.
 */
import { createConnection } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { connect } from '../lib';
import { runCli } from './helpers/cli';
import { makeNetwork, shortTempDir } from './helpers/network';

function exchange(path: string, data: string | Buffer, lines: number): Promise<{ replies: string[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    let closed = false;
    sock.setEncoding('utf8');
    const done = () => resolve({ replies: buf.split('\n').slice(0, -1), closed });
    sock.on('data', (s: string) => {
      buf += s;
      if (buf.split('\n').length - 1 >= lines) {
        sock.end();
        done();
      }
    });
    sock.on('close', () => {
      closed = true;
      done();
    });
    sock.on('error', reject);
    sock.write(data);
  });
}

t.test('local sockets and bad input', async (t) => {
  const net = await makeNetwork(t, [{ id: 'solo', ip: '127.0.7.2' }]);
  const d = await net.start('solo');
  const mux = join(d.host.spool, 'loncapad.sock');
  const bystander = await d.client();
  t.teardown(() => bystander.close());

  t.test('malformed multiplexed requests', async (t) => {
    const { replies } = await exchange(mux, 'hello\n7 x 0 solo ping\n8 r 0 solo \n9 r 0 solo ping\n', 5);
    t.same(replies, [
      '0 hello version=0.1.0 reply_timeout_ms=3000 critical_timeout_ms=3000',
      '0 error:bad request (expected "<id> <r|c> <timeoutMs> <peer> <command>")',
      '7 error:bad request (expected "<id> <r|c> <timeoutMs> <peer> <command>")',
      '8 error:empty command',
      '9 solo',
    ]);
    t.equal(await bystander.reply('solo', 'ping'), 'solo');
  });

  t.test('an oversized line closes only that connection', async (t) => {
    const sock = createConnection(mux);
    let text = '';
    sock.setEncoding('utf8').on('data', (s: string) => (text += s));
    sock.on('error', () => {}); // EPIPE: the daemon closed while we were still writing
    sock.write(Buffer.alloc(17 * 1024 * 1024, 0x61));
    await new Promise((r) => sock.on('close', r));
    t.equal(text, '0 hello version=0.1.0 reply_timeout_ms=3000 critical_timeout_ms=3000\n0 error:line too long\n', 'answered, then closed');
    t.equal(await bystander.reply('solo', 'ping'), 'solo', 'other clients are still served');
  });

  t.test('classic socket', async (t) => {
    const { replies } = await exchange(join(d.host.spool, 'sock', 'solo'), '\nping\nput:d1:amy\nget:d1:amy:ns:x\n', 4);
    t.same(replies, ['error:empty command', 'solo', 'error:put needs 4 arguments', '']);
  });

  t.test('socket files are not world-accessible', async (t) => {
    const { statSync } = await import('node:fs');
    t.equal(statSync(mux).mode & 0o777, 0o660);
    t.equal(statSync(join(d.host.spool, 'sock', 'solo')).mode & 0o777, 0o660);
    t.equal(statSync(join(d.host.spool, 'keys', 'host.key')).mode & 0o777, 0o600);
  });
});

t.test('no daemon running', async (t) => {
  const dir = shortTempDir(t);
  await t.rejects(connect({ spool: dir }), { code: 'LC_ERR_NOT_RUNNING' });
  const r = await runCli(['call', '--spool', dir, 'x', 'ping']);
  t.equal(r.code, 2);
  t.match(r.stderr, /loncapad is not running/);
});
