/**
 * The pure wire parts fed with bytes: framing (split anywhere, one byte at a
 * time, oversized, empty), the sealed session (replayed, reordered, forged),
 * the handshake (both sides' keys checked), and message decoding.
 */
import nacl from 'tweetnacl';
import t from 'tap';
import {
  consumeFinish,
  consumeServerHello,
  createHello,
  createServerHello,
  decodeMessages,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  fragmentReply,
  parseHello,
  SealedSession,
} from '../lib/wire';
import { createMsgidSource, msgidOf, sequenceOf } from '../lib/wire/msgid';
import { ephemeralKeyPair, x25519 } from '../lib/wire/x25519';

const frames = (...bodies: string[]) => Buffer.concat(bodies.map((b) => encodeFrame(Buffer.from(b))));

const feed = (d: FrameDecoder, chunk: Buffer): string[] => {
  d.push(chunk);
  return d.drain().map(String);
};

t.test('frame decoder', async (t) => {
  const bytes = frames('one', 'two', 'three');
  t.same(feed(new FrameDecoder(100), bytes), ['one', 'two', 'three'], 'whole');
  const d = new FrameDecoder(100);
  const got: string[] = [];
  for (const b of bytes) got.push(...feed(d, Buffer.from([b])));
  t.same(got, ['one', 'two', 'three'], 'one byte at a time');
  t.equal(d.bufferedBytes, 0);
  for (let cut = 1; cut < bytes.length; cut++) {
    const e = new FrameDecoder(100);
    const parts = [...feed(e, bytes.subarray(0, cut)), ...feed(e, bytes.subarray(cut))];
    if (parts.join() !== 'one,two,three') t.fail(`split at ${cut}: ${parts}`);
  }
  t.throws(() => feed(new FrameDecoder(4), frames('too long')), { code: 'LC_ERR_FRAME_TOO_LARGE' });
  const head = Buffer.alloc(4);
  head.writeUInt32BE(1 << 30);
  t.throws(() => feed(new FrameDecoder(100), head), { code: 'LC_ERR_FRAME_TOO_LARGE' }, 'refused at the header, before any body');
  t.throws(() => feed(new FrameDecoder(100), Buffer.alloc(4)), { code: 'LC_ERR_BAD_FRAME' }, 'empty frame');
});

t.test('the limit applies to each frame when it is taken (handshake hands over mid-buffer)', async (t) => {
  // A small handshake frame and a large session frame arrive in one chunk.
  const big = 'x'.repeat(1000);
  for (let cut = 0; cut <= 12; cut++) {
    const d = new FrameDecoder(16);
    const bytes = frames('finish', big);
    d.push(bytes.subarray(0, bytes.length - cut));
    t.equal(String(d.next()), 'finish', `the small frame first (last ${cut} bytes still to come)`);
    d.setMaxBytes(2000);
    if (cut > 0) {
      t.equal(d.next(), undefined, 'the large frame is not complete yet');
      d.push(bytes.subarray(bytes.length - cut));
    }
    t.equal(String(d.next()), big, 'the large frame under the raised limit');
    t.equal(d.bufferedBytes, 0);
  }
  const strict = new FrameDecoder(16);
  strict.push(frames('finish', big));
  t.equal(String(strict.next()), 'finish');
  t.throws(() => strict.next(), { code: 'LC_ERR_FRAME_TOO_LARGE' }, 'without raising, the large frame is refused');
});

t.test('sealed session', async (t) => {
  const k1 = nacl.randomBytes(32);
  const k2 = nacl.randomBytes(32);
  const a = new SealedSession(Uint8Array.from(k1), Uint8Array.from(k2));
  const b = new SealedSession(Uint8Array.from(k2), Uint8Array.from(k1));
  const m1 = a.seal(Buffer.from('first'));
  const m2 = a.seal(Buffer.from('second'));
  t.equal(Buffer.from(b.open(m1)).toString(), 'first');
  t.throws(() => b.open(m1), { code: 'LC_ERR_DECRYPT' }, 'replayed');
  const c = new SealedSession(Uint8Array.from(k2), Uint8Array.from(k1));
  t.throws(() => c.open(m2), { code: 'LC_ERR_DECRYPT' }, 'reordered');
  const d = new SealedSession(Uint8Array.from(k2), Uint8Array.from(k1));
  const forged = Uint8Array.from(m1);
  forged[5]! ^= 0x40;
  t.throws(() => d.open(forged), { code: 'LC_ERR_DECRYPT' }, 'forged');
  t.equal(Buffer.from(d.open(m1)).toString(), 'first', 'a failed open does not advance the counter');
  t.not(Buffer.from(a.seal(Buffer.from('x'))).toString('hex'), Buffer.from(b.seal(Buffer.from('x'))).toString('hex'), 'each direction has its own key');
});

t.test('handshake', async (t) => {
  const i = nacl.box.keyPair();
  const r = nacl.box.keyPair();
  const init = createHello('alpha', 'beta');
  const hello = parseHello(init.hello);
  t.equal(hello.initiatorId, 'alpha');
  t.equal(hello.targetId, 'beta');
  const resp = createServerHello(hello, 'beta', r, i.publicKey);
  const est = consumeServerHello(resp.serverHello, init, i, r.publicKey);
  const fin = consumeFinish(est.finish, resp);
  t.equal(est.version, 1);
  t.equal(fin.version, 1);
  const msg = est.session.seal(Buffer.from('q 1 ping'));
  t.equal(Buffer.from(fin.session.open(msg)).toString(), 'q 1 ping', 'initiator → responder');
  t.equal(Buffer.from(est.session.open(fin.session.seal(Buffer.from('r 1 beta')))).toString(), 'r 1 beta', 'responder → initiator');

  const init2 = createHello('alpha', 'beta');
  const wrongResponder = createServerHello(parseHello(init2.hello), 'beta', nacl.box.keyPair(), i.publicKey);
  t.throws(() => consumeServerHello(wrongResponder.serverHello, init2, i, r.publicKey), { code: 'LC_ERR_HANDSHAKE' }, 'responder without the listed key');

  const init3 = createHello('alpha', 'beta');
  const resp3 = createServerHello(parseHello(init3.hello), 'beta', r, i.publicKey);
  const impostor = nacl.box.keyPair();
  t.throws(() => consumeServerHello(resp3.serverHello, init3, impostor, r.publicKey), { code: 'LC_ERR_HANDSHAKE' });

  const init4 = createHello('alpha', 'beta');
  const resp4 = createServerHello(parseHello(init4.hello), 'beta', r, i.publicKey);
  t.throws(() => consumeFinish(Buffer.alloc(48), resp4), { code: 'LC_ERR_HANDSHAKE' }, 'initiator without the listed key');

  const init5 = createHello('alpha', 'gamma');
  const resp5 = createServerHello(parseHello(init5.hello), 'beta', r, i.publicKey);
  t.throws(() => consumeServerHello(resp5.serverHello, init5, i, r.publicKey), /responder is beta, wanted gamma/);

  const future = Buffer.from(init.hello);
  future[4] = 7;
  future[5] = 9;
  t.throws(() => createServerHello(parseHello(future), 'beta', r, i.publicKey), /no common protocol version/);
  t.throws(() => parseHello(Buffer.from('nope')), { code: 'LC_ERR_HANDSHAKE' });
  t.throws(() => parseHello(init.hello.subarray(0, 20)), /truncated/);
});

t.test('messages', async (t) => {
  const ms = [
    { kind: 'q', id: 1, command: 'put:d:u:ns:a=1' },
    { kind: 'c', id: 2, msgid: 'm-1', command: 'log:d:u:x y' },
    { kind: 'r', id: 3, reply: '' },
    { kind: 'r', id: 4, reply: 'a b c' },
    { kind: 'k', id: 5 },
    { kind: 'K', id: 5 },
  ] as const;
  const text = ms.map(encodeMessage).join('\n');
  t.same(decodeMessages(Buffer.from(text)), ms);
  const badIds = ['q  ping', 'q 1a ping', 'q 1: ping', 'q / ping', 'r -1 x', 'K +1', 'k 1 ', 'q 1234567890123456 ping'];
  for (const bad of ['', 'x 1 ping', 'q one ping', 'q 1', 'c 1 only-an-id', 'k 1 extra', 'q 12345678901234567 ping', ...badIds]) {
    t.throws(() => decodeMessages(Buffer.from(bad)), { code: 'LC_ERR_BAD_FRAME' }, JSON.stringify(bad));
  }
  t.same(decodeMessages(Buffer.from('q 999999999999999 ping\nr 0 ok')), [
    { kind: 'q', id: 999_999_999_999_999, command: 'ping' },
    { kind: 'r', id: 0, reply: 'ok' },
  ], 'ids of 1 to 15 digits');
});

t.test('large replies travel in fragments', async (t) => {
  t.same(fragmentReply(7, 'short', 10), ['r 7 short']);
  t.same(fragmentReply(7, 'abcdefghij' + 'k', 4), ['p 7 abcd', 'p 7 efgh', 'r 7 ijk']);
  const emoji = 'ab\u{1F600}cd'; // a surrogate pair at chars 2-3
  const parts = fragmentReply(1, emoji, 3).map((l) => decodeMessages(Buffer.from(l))[0] as { reply: string });
  t.same(parts.map((p) => p.reply), ['ab', '\u{1F600}c', 'd'], 'the pair is never split');
  t.equal(parts.map((p) => p.reply).join(''), emoji);
});

t.test('X25519 through node:crypto gives what tweetnacl gives (the protocol does not change)', async (t) => {
  for (let i = 0; i < 20; i++) {
    const a = nacl.box.keyPair();
    const b = nacl.box.keyPair();
    t.same(Buffer.from(x25519(a.secretKey, b.publicKey)), Buffer.from(nacl.scalarMult(a.secretKey, b.publicKey)));
    const e = ephemeralKeyPair();
    t.same(Buffer.from(x25519(e.privateKey, b.publicKey)), Buffer.from(x25519(b.secretKey, e.publicKey)), 'an ephemeral pair agrees with a static one');
  }
  t.throws(() => x25519(nacl.box.keyPair().secretKey, new Uint8Array(32)), { code: 'LC_ERR_HANDSHAKE' }, 'a low-order point gives no shared secret');
});

t.test('critical message ids: increasing within a run, and read back only in their one spelling', async (t) => {
  const next = createMsgidSource();
  const ids = [next(), next(), next()];
  t.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, 'string order is counter order');
  t.same(ids.map((id) => sequenceOf(id)?.n), [0, 1, 2]);
  const run = '0123456789abcdef';
  for (const n of [0, 35, 36, 71, 36 ** 5 + 7, Number.MAX_SAFE_INTEGER]) t.same(sequenceOf(msgidOf(run, n)), { run, n }, `counter ${n} round trip`);
  t.equal(msgidOf(run, 71), `${run}.0000000001z`);
  for (const other of [`${run}.0000000001Z`, `${run}.000000000-1`, `${run}.00000000001 `, `${run}.0000000001`, `${run}x00000000001`, `${run}.zzzzzzzzzzz`, 'not-one-of-ours']) {
    t.equal(sequenceOf(other), undefined, `${JSON.stringify(other)} is not one of this format's ids`);
  }
});
