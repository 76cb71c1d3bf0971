import t from 'tap';
import { escape, escapeBytes, isWellEscaped, unescape, unescapeBytes } from '../lib/client/escape';

t.test('every non-word byte becomes uppercase %XX', async (t) => {
  t.equal(escape('Word_09'), 'Word_09');
  t.equal(escape(':&=\n% .-/'), '%3A%26%3D%0A%25%20%2E%2D%2F');
  t.equal(escape('ü€'), '%C3%BC%E2%82%AC', 'UTF-8 bytes');
  t.equal(escape(''), '');
  t.equal(escapeBytes(Buffer.from([0x00, 0xff, 0x41])), '%00%FFA');
});

t.test('unescape accepts classic lowercase and leaves a stray % alone', async (t) => {
  t.equal(unescape('a%2eb%2Ec'), 'a.b.c');
  t.equal(unescape('100%'), '100%');
  t.equal(unescape('%zz%4'), '%zz%4');
  t.equal(unescape('%C3%BC'), 'ü');
  t.equal(unescape('raw ü stays'), 'raw ü stays');
  t.same(unescapeBytes('%FF%00A'), Buffer.from([0xff, 0x00, 0x41]));
});

t.test('round trips', async (t) => {
  const samples = ['', 'plain', 'a:b&c=d', 'line\nbreak\r\ttab', '100% sure', 'emoji 🎓 ü ß', '%41%', '\u0000\u007f', 'x'.repeat(1000)];
  for (const s of samples) {
    t.equal(unescape(escape(s)), s, JSON.stringify(s.slice(0, 20)));
    t.ok(/^[A-Za-z0-9_%]*$/.test(escape(s)), 'escaped text is words and escapes only');
  }
});

t.test('well-escaped means every % starts %XX', async (t) => {
  t.equal(isWellEscaped('a%20b%2e'), true);
  t.equal(isWellEscaped('a%2'), false);
  t.equal(isWellEscaped('%g0'), false);
  t.equal(isWellEscaped('no escapes'), true);
});
