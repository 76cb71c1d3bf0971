/**
 * Ephemeral key pairs must never hang the process (lib/wire/x25519.ts).
 *
 * Exporting a freshly generated KeyObject as JWK deadlocked node 20 on
 * itself when a garbage collection ran inside the export: the export holds
 * the key's mutex while it allocates, and the finished generation job,
 * finalized by that collection, locks the same mutex. A daemon hung that
 * way answers nothing, for ever, with no log line. V8's `--gc-interval=13`
 * (a collection every 13 allocations) lands one in that window within a
 * few thousand key pairs: the old code hung in each of nine such runs of
 * 30,000–50,000 pairs; the current one makes 50,000 in ~2–3 s.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';

const PAIRS = 50_000;
/** A deadlock never ends; a slow machine still makes 50,000 pairs well within this. */
const DEADLINE_MS = 90_000;

const script = `
const { ephemeralKeyPair, x25519 } = require(${JSON.stringify(join(__dirname, '../lib/wire/x25519'))});
for (let i = 0; i < ${PAIRS}; i++) ephemeralKeyPair();
// The public key given is the private key's: a * B = b * A, and a * 9 = A.
const a = ephemeralKeyPair(), b = ephemeralKeyPair();
const base = new Uint8Array(32); base[0] = 9;
const same = (x, y) => Buffer.from(x).equals(Buffer.from(y));
process.stdout.write(JSON.stringify({
  shared: same(x25519(a.privateKey, b.publicKey), x25519(b.privateKey, a.publicKey)),
  own: same(x25519(a.privateKey, base), a.publicKey),
}));
`;

t.test(`${PAIRS} ephemeral key pairs with a garbage collection every 13 allocations: no deadlock`, async (t) => {
  const child = spawn(process.execPath, ['--gc-interval=13', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(deadline);
  t.equal(signal, null, `the key pairs were made (killed after ${DEADLINE_MS} ms: deadlocked)`);
  t.equal(code, 0);
  t.same(JSON.parse(out || '{}'), { shared: true, own: true }, 'each public key belongs to its private key');
});
