/**
 * Who gets in, and what bad input does: unknown addresses, a lonid claimed
 * from the wrong address, a wrong key, garbage and oversized frames, and
 * replayed, reordered and forged frames after a good handshake. Each is
 * refused before any command runs, logged with its reason, and a legitimate
 * peer keeps being served throughout.
 */
import { join } from 'node:path';
import nacl from 'tweetnacl';
import t, { type Test } from 'tap';
import { loadOrCreateKeys } from '../lib/config';
import { encodeFrame } from '../lib/wire';
import { makeNetwork, PEER_PORT } from './helpers/network';
import { handshake, openLines, rawConnect, sealLines } from './helpers/raw-peer';

t.test('peer admission and frame integrity', async (t) => {
  const net = await makeNetwork(t, [
    { id: 'alpha', ip: '127.0.5.2' },
    { id: 'beta', ip: '127.0.5.3' },
    { id: 'carol', ip: '127.0.5.4' },
  ]);
  const b = await net.start('beta');
  const carol = await net.start('carol');
  const betaKey = Buffer.from(net.hosts.get('beta')!.publicKey, 'base64');
  // Each check is counted on the subtest of the attack it follows.
  const stillServed = async (t: Test) => t.equal(await carol.call('beta', 'ping'), 'beta', 'a legitimate peer is still served');
  const owned = async (t: Test, value: string, what: string) => t.equal(await b.call('beta', 'get:d1:amy:ns:owned'), value, what);

  t.test('an address not in the hosts table', async (t) => {
    const p = await rawConnect('127.0.5.9', '127.0.5.3', PEER_PORT);
    await p.closed;
    t.same(p.frames, [], 'closed without a word');
    await b.waitForLog(/refused peer connection from 127\.0\.5\.9: address not in the hosts table/);
    await stillServed(t);
  });

  t.test('a lonid claimed from another listed address', async (t) => {
    const p = await rawConnect('127.0.5.4', '127.0.5.3', PEER_PORT);
    const impostor = nacl.box.keyPair();
    await t.rejects(handshake(p, 'alpha', 'beta', impostor, betaKey), /closed during handshake/);
    await b.waitForLog(/refused peer connection from 127\.0\.5\.4: alpha is listed at 127\.0\.5\.2, not 127\.0\.5\.4/);
    await stillServed(t);
  });

  t.test('the right address but not the listed key', async (t) => {
    const p = await rawConnect('127.0.5.2', '127.0.5.3', PEER_PORT);
    const impostor = nacl.box.keyPair();
    // The impostor cannot even check beta's answer: the keys it derives are wrong.
    await t.rejects(handshake(p, 'alpha', 'beta', impostor, betaKey), { code: 'LC_ERR_HANDSHAKE' });
    // It tries anyway: a made-up Finish and a request in the same write.
    p.sock.write(Buffer.concat([encodeFrame(Buffer.alloc(48, 1)), encodeFrame(Buffer.from('q 1 put:d1:amy:ns:owned=1'))]));
    await p.closed;
    await b.waitForLog(/refused peer connection from 127\.0\.5\.2: initiator does not hold the key listed for alpha/);
    await owned(t, '', 'nothing was executed');
    await stillServed(t);
  });

  t.test('garbage before the handshake', async (t) => {
    const garbage = await rawConnect('127.0.5.2', '127.0.5.3', PEER_PORT);
    garbage.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await garbage.closed;
    t.same(garbage.frames, [], 'closed without a word');
    await b.waitForLog(/refused peer connection from 127\.0\.5\.2: frame of \d+ bytes exceeds 512/);
    await stillServed(t);
  });

  t.test('a truncated frame before the handshake', async (t) => {
    const truncated = await rawConnect('127.0.5.2', '127.0.5.3', PEER_PORT);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(100);
    truncated.sock.end(Buffer.concat([head, Buffer.alloc(10)]));
    await truncated.closed;
    t.same(truncated.frames, [], 'closed without a word');
    await stillServed(t);
  });

  t.test('a malformed Hello', async (t) => {
    const badHello = await rawConnect('127.0.5.2', '127.0.5.3', PEER_PORT);
    badHello.sock.write(encodeFrame(Buffer.from('LCD1 but not a hello')));
    await badHello.closed;
    t.same(badHello.frames, [], 'closed without a word');
    await b.waitForLog(/refused peer connection from 127\.0\.5\.2: (truncated handshake message|trailing bytes in hello|bad id length)/);
    await stillServed(t);
  });

  const alphaKeys = loadOrCreateKeys(join(net.dir, 'alpha'));
  const open = async () => {
    const p = await rawConnect('127.0.5.2', '127.0.5.3', PEER_PORT);
    const s = await handshake(p, 'alpha', 'beta', alphaKeys, betaKey);
    return { p, s };
  };

  t.test('a replayed frame ends an established link', async (t) => {
    // A good request first: the session works.
    const good = await open();
    good.p.sock.write(sealLines(good.s, ['q 1 ping']));
    t.same(openLines(good.s, (await good.p.nextFrame())!), [JSON.stringify({ kind: 'r', id: 1, reply: 'beta' })]);
    // Replay the same bytes: counter 2 is over, so the frame fails to open.
    const frame = sealLines(good.s, ['q 2 put:d1:amy:ns:owned=2']);
    good.p.sock.write(frame);
    t.equal(openLines(good.s, (await good.p.nextFrame())!)[0], JSON.stringify({ kind: 'r', id: 2, reply: 'ok' }));
    good.p.sock.write(frame);
    await good.p.closed;
    await b.waitForLog(/inbound link from alpha: protocol-violation: frame 3 failed authentication/);
    await owned(t, '2', 'the replayed put did not run again');
    await stillServed(t);
  });

  t.test('a reordered frame ends an established link', async (t) => {
    const r = await open();
    const second = sealLines(r.s, ['q 1 put:d1:amy:ns:owned=3']);
    const third = sealLines(r.s, ['q 2 put:d1:amy:ns:owned=4']);
    r.p.sock.write(third);
    r.p.sock.write(second);
    await r.p.closed;
    t.same(r.p.frames, [], 'no reply');
    await owned(t, '2', 'neither put ran');
    await stillServed(t);
  });

  t.test('a forged frame ends an established link', async (t) => {
    const f = await open();
    const forged = sealLines(f.s, ['q 1 put:d1:amy:ns:owned=5']);
    forged[forged.length - 1] ^= 1;
    f.p.sock.write(forged);
    await f.p.closed;
    t.same(f.p.frames, [], 'no reply');
    await owned(t, '2', 'the forged put did not run');
    await stillServed(t);
  });

  t.test('an oversized frame after the handshake is refused at the header', async (t) => {
    const big = await open();
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(64 * 1024 * 1024);
    big.p.sock.write(huge);
    await big.p.closed;
    await b.waitForLog(/protocol-violation: frame of 67108864 bytes exceeds/);
    await stillServed(t);
  });
});
