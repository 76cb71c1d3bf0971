/**
 * The baselines for the network and spool benchmarks: the same path as a
 * loncapad request (client → UNIX socket → relay → TCP → server → back) with
 * nothing else: newline framing, request ids, one write per batch, no crypto,
 * no command table, no spool. Like shared/baselines/rr.js, in the project.
 *
 * The durable roles add the one thing a durable reply cannot do without, and
 * nothing else: each loop turn's lines are written to a file in one write,
 * and answered once an fdatasync made after that write has ended, the syncs
 * group-committed by the daemon's own WalSync (no SQLite, no crypto, no
 * commands). They show what a put and a durable enqueue could reach on this
 * machine if everything but the transport and the sync cost nothing.
 *
 *   node plain-relay.js server <ip> <port>
 *   node plain-relay.js relay <socket path> <upstream ip> <port>
 *   node plain-relay.js durable-server <ip> <port> <file>   the server, each answer after its sync
 *   node plain-relay.js durable-spool <socket path> <file>  every request answered con_delayed after its sync
 * Each prints `ready` when listening.
 */
import { connect, createServer, type Socket } from 'node:net';
import { fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { formatGreeting, LineSplitter, LineWriter } from '../../lib/local';
import { WalSync } from '../../lib/store/wal-sync';

const MAX = 16 * 1024 * 1024;

function lines(sock: Socket, onLine: (line: string, out: LineWriter) => void, out: LineWriter): void {
  const split = new LineSplitter(MAX);
  sock.on('data', (chunk: Buffer) => {
    for (const l of split.push(chunk)) onLine(l, out);
  });
  sock.on('error', () => sock.destroy());
}

/** The log's size: written full of zeros first and then overwritten round and round, so that no sync has to grow it. */
const LOG_BYTES = 16 * 1024 * 1024;

/**
 * A file that lines are written to, each answered once it is on disk: a
 * turn's lines in one write, then WalSync's group commit (a sync covers every
 * write made before it started; writes made while one runs wait for the next).
 * Like a reused WAL, it overwrites a file of a fixed size: an fdatasync that
 * grows a file also commits its new size, which costs this disk about twice.
 */
class DurableLog {
  readonly #fd: number;
  readonly #sync: WalSync;
  #at = 0;
  #text = '';
  #answers: Array<() => void> = [];

  constructor(file: string) {
    // WalSync syncs `<file>-wal`: here a plain file of lines.
    this.#fd = openSync(`${file}-wal`, 'w');
    writeSync(this.#fd, Buffer.alloc(LOG_BYTES));
    fsyncSync(this.#fd);
    this.#sync = new WalSync(file);
  }

  append(line: string, answer: () => void): void {
    if (this.#answers.length === 0) setImmediate(this.#write);
    this.#text += line + '\n';
    this.#answers.push(answer);
  }

  readonly #write = (): void => {
    const answers = this.#answers;
    const bytes = Buffer.from(this.#text);
    if (this.#at + bytes.length > LOG_BYTES) this.#at = 0;
    this.#at += writeSync(this.#fd, bytes, 0, bytes.length, this.#at);
    this.#text = '';
    this.#answers = [];
    void this.#sync.sync().then(() => {
      for (const a of answers) a();
    });
  };
}

/** "<id> ping" → "<id> <ip>": the same shape of work as a loncapad ping; with `log`, answered once the line is on disk. */
function server(ip: string, port: number, log?: DurableLog): void {
  createServer({ noDelay: true }, (sock) => {
    const out = new LineWriter((t) => sock.write(t));
    lines(
      sock,
      (l, o) => {
        const reply = l.slice(0, l.indexOf(' ')) + ' ' + ip;
        if (log) log.append(l, () => o.push(reply));
        else o.push(reply);
      },
      out,
    );
  }).listen(port, ip, () => process.stdout.write('ready\n'));
}

/** A client's every request ("<id> <kind> <timeout> <peer> <command>") answered con_delayed once it is on disk. */
function durableSpool(path: string, log: DurableLog): void {
  rmSync(path, { force: true });
  createServer((sock) => {
    const out = new LineWriter((t) => sock.write(t));
    out.push(greeting());
    lines(sock, (l, o) => log.append(l, () => o.push(l.slice(0, l.indexOf(' ')) + ' con_delayed')), out);
  }).listen(path, () => process.stdout.write('ready\n'));
}

/** The greeting the client library waits for (docs/local-protocol.md). */
function greeting(): string {
  return formatGreeting({ version: 'plain-relay', replyTimeoutMs: 30_000, criticalTimeoutMs: 10_000 });
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
      out.push(greeting());
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
else if (role === 'durable-server') server(a!, Number(b), new DurableLog(c!));
else if (role === 'durable-spool') durableSpool(a!, new DurableLog(b!));
