/**
 * The baseline for the network benchmark: the same path as a loncapad
 * request (client → UNIX socket → relay → TCP → server → back) with nothing
 * else: newline framing, request ids, one write per batch, no crypto, no
 * command table, no spool. Like shared/baselines/rr.js, in the project.
 *
 *   node plain-relay.js server <ip> <port>
 *   node plain-relay.js relay <socket path> <upstream ip> <port>
 * Each prints `ready` when listening.
 */
import { connect, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { formatGreeting, LineSplitter, LineWriter } from '../../lib/local';

const MAX = 16 * 1024 * 1024;

function lines(sock: Socket, onLine: (line: string, out: LineWriter) => void, out: LineWriter): void {
  const split = new LineSplitter(MAX);
  sock.on('data', (chunk: Buffer) => {
    for (const l of split.push(chunk)) onLine(l, out);
  });
  sock.on('error', () => sock.destroy());
}

function server(ip: string, port: number): void {
  // "<id> ping" → "<id> <ip>": the same shape of work as a loncapad ping.
  createServer({ noDelay: true }, (sock) => {
    const out = new LineWriter((t) => sock.write(t));
    lines(sock, (l, o) => o.push(l.slice(0, l.indexOf(' ')) + ' ' + ip), out);
  }).listen(port, ip, () => process.stdout.write('ready\n'));
}

function relay(path: string, ip: string, port: number): void {
  const up = connect({ host: ip, port });
  up.setNoDelay(true);
  const upOut = new LineWriter((t) => up.write(t));
  const pending = new Map<number, [LineWriter, string]>();
  let next = 1;
  lines(
    up,
    (l) => {
      const sp = l.indexOf(' ');
      const id = Number(l.slice(0, sp));
      const p = pending.get(id)!;
      pending.delete(id);
      p[0].push(p[1] + l.slice(sp));
    },
    upOut,
  );
  up.on('connect', () => {
    rmSync(path, { force: true });
    createServer((sock) => {
      const out = new LineWriter((t) => sock.write(t));
      // The greeting the client library waits for (docs/local-protocol.md).
      out.push(formatGreeting({ version: 'plain-relay', replyTimeoutMs: 30_000, criticalTimeoutMs: 10_000 }));
      lines(
        sock,
        (l) => {
          // "<id> r <timeout> <peer> <command>" from the loncapad client format.
          const sp = l.indexOf(' ');
          const id = next++;
          pending.set(id, [out, l.slice(0, sp)]);
          upOut.push(`${id} ${l.slice(l.lastIndexOf(' ') + 1)}`);
        },
        out,
      );
    }).listen(path, () => process.stdout.write('ready\n'));
  });
}

const [role, a, b, c] = process.argv.slice(2);
if (role === 'server') server(a!, Number(b));
else if (role === 'relay') relay(a!, b!, Number(c));
