/**
 * One local client connection of a line protocol (the multiplexed socket
 * and the classic per-peer sockets share it): lines in, replies out, and
 * every buffer with an owner and a bound.
 *
 *   input   a partial line ≤ MAX_LOCAL_LINE_BYTES per connection, and all
 *           connections' partial lines together ≤ the shared InputBudget
 *           (past it, the connection holding the most is closed);
 *   turn    at most MAX_LINES_PER_TURN lines run per connection per loop
 *           turn; the rest wait, reading paused, for the next turn, so a
 *           client that sends thousands at once (a script, a pipe) lets the
 *           other clients in between, as a peer's frame does;
 *   work    at most `maxInFlight` requests unanswered per connection; past
 *           it, no more of its lines run and reading pauses until replies
 *           go out;
 *   output  replies the client has not read: past `softOutputBytes` reading
 *           pauses (a client that does not read gets no new work done), past
 *           `hardOutputBytes` the connection is closed, with a log line;
 *   end     a client that half-closes (shutdown(SHUT_WR), `socat`, `nc -N`)
 *           is answered every request read before its FIN, then closed.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log';
import type { InFlight } from './in-flight';
import { replyRoom } from '../reply-room';
import { LineSplitter, LineWriter } from './lines';
import { MAX_LOCAL_LINE_BYTES } from './mux-protocol';

export interface ConnectionLimits {
  readonly maxInFlight: number;
  readonly softOutputBytes: number;
  readonly hardOutputBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxInFlight: 1024,
  softOutputBytes: 8 * 1024 * 1024,
  hardOutputBytes: 64 * 1024 * 1024,
};

/**
 * Lines one connection runs in a loop turn. One read can bring thousands
 * (libuv reads up to 32 × 64 KB per wake-up): run at once they held every
 * other client for tens of ms. The inbound peer session has the same bound
 * (MAX_COMMANDS_PER_TURN).
 */
export const MAX_LINES_PER_TURN = 256;

/** Partial input lines of every local connection together, bytes. */
export const MAX_PARTIAL_INPUT_BYTES_TOTAL = 64 * 1024 * 1024;

/** The shared bound on partial input lines across connections. */
export class InputBudget {
  readonly #max: number;
  readonly #held = new Map<LineConnection, number>();
  #total = 0;

  constructor(maxBytes = MAX_PARTIAL_INPUT_BYTES_TOTAL) {
    this.#max = maxBytes;
  }

  /** `conn` now holds `bytes` of a partial line; returns the connection to close when the total is over, if any. */
  hold(conn: LineConnection, bytes: number): LineConnection | undefined {
    this.#total += bytes - (this.#held.get(conn) ?? 0);
    if (bytes === 0) this.#held.delete(conn);
    else this.#held.set(conn, bytes);
    if (this.#total <= this.#max) return undefined;
    let largest = conn;
    for (const [c, n] of this.#held) if (n > (this.#held.get(largest) ?? 0)) largest = c;
    return largest;
  }
}

export interface LineConnectionOptions {
  /** For log lines: which socket this is. */
  readonly name: string;
  /** Every connection's unanswered requests together (shutdown waits for none). */
  readonly inFlight: InFlight;
  readonly log: Logger;
  readonly budget: InputBudget;
  readonly limits?: ConnectionLimits | undefined;
  /** Called for every complete line, in order. */
  readonly onLine: (line: string, conn: LineConnection) => void;
  /** The reply to a line over the size limit, sent before the connection closes. */
  readonly tooLongReply: string;
}

export class LineConnection {
  readonly sock: Socket;
  readonly #o: LineConnectionOptions;
  readonly #limits: ConnectionLimits;
  readonly #splitter = new LineSplitter(MAX_LOCAL_LINE_BYTES);
  readonly #out: LineWriter;
  /** Room for large replies: while the client has left less than the soft limit unread. */
  readonly replyRoom = replyRoom(() => this.sock.writableLength + this.#out.pendingChars < this.#limits.softOutputBytes);
  #inFlight = 0;
  /** Lines read and not run yet (from `#next` on), and the turn that runs more of them. */
  #lines: string[] = [];
  #next = 0;
  #nextTurn: NodeJS.Immediate | undefined;
  #inputEnded = false;
  #closing = false;
  #pausedFor: 'work' | 'output' | undefined;

  constructor(sock: Socket, options: LineConnectionOptions) {
    this.sock = sock;
    this.#o = options;
    this.#limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
    this.#out = new LineWriter((text) => this.#write(text));
    sock.on('data', (chunk: Buffer) => this.#onData(chunk));
    sock.on('end', () => {
      this.#inputEnded = true;
      this.#endIfDone();
    });
    sock.on('drain', () => this.#maybeResume());
    sock.on('error', () => {}); // a client that vanished: 'close' cleans up
    sock.on('close', () => {
      this.#dropLines();
      this.#out.discard();
      this.#o.budget.hold(this, 0);
    });
  }

  get closed(): boolean {
    return this.sock.destroyed || this.#closing;
  }

  /** Nobody will read replies on this connection any more. */
  readonly gone = (): boolean => this.sock.destroyed;

  /** A request began (its reply will come through `reply`). */
  begin(): void {
    this.#inFlight++;
    this.#o.inFlight.begin();
    if (this.#inFlight >= this.#limits.maxInFlight) this.#pause('work');
  }

  /** The reply to a request begun earlier. */
  reply(line: string): void {
    this.#inFlight--;
    this.#o.inFlight.end();
    this.send(line);
    this.#maybeResume();
    this.#endIfDone();
  }

  /**
   * A line that answers no begun request (protocol errors, greetings). A
   * client whose unread replies would pass the hard limit is closed instead,
   * before the line is queued: its replies are never held whole.
   */
  send(line: string): void {
    if (this.sock.destroyed) return;
    const unread = this.sock.writableLength + this.#out.pendingChars + line.length;
    if (unread > this.#limits.hardOutputBytes) {
      this.#o.log.warn(
        `${this.#o.name}: the client would leave ${unread} bytes of replies unread (limit ${this.#limits.hardOutputBytes}); closing that connection`,
      );
      this.#out.discard();
      this.sock.destroy();
      return;
    }
    this.#out.push(line);
    if (unread > this.#limits.softOutputBytes) this.#pause('output');
  }

  /** Shutdown: send what is queued, then close. */
  end(): void {
    this.#out.flush();
    this.#closing = true;
    this.sock.end();
  }

  #onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.#splitter.push(chunk);
    } catch (err) {
      this.#o.log.warn(`${this.#o.name}: ${(err as Error).message}; closing that connection`);
      this.#closeWith(this.#o.tooLongReply);
      return;
    }
    const over = this.#o.budget.hold(this, this.#splitter.pendingBytes);
    if (over) over.#closeWith(this.#o.tooLongReply, `partial lines of all local clients exceed ${MAX_PARTIAL_INPUT_BYTES_TOTAL} bytes`);
    if (this.#next === this.#lines.length) {
      this.#lines = lines;
      this.#next = 0;
    } else for (const line of lines) this.#lines.push(line);
    this.#runLines();
  }

  /**
   * Run waiting lines, at most MAX_LINES_PER_TURN, while the connection may
   * take work; reading stays paused while any wait (they are bounded by
   * what one read brought).
   */
  readonly #runLines = (): void => {
    if (this.#nextTurn) clearImmediate(this.#nextTurn);
    this.#nextTurn = undefined;
    const stop = Math.min(this.#lines.length, this.#next + MAX_LINES_PER_TURN);
    while (this.#next < stop && !this.#closing && this.#pausedFor === undefined) this.#o.onLine(this.#lines[this.#next++]!, this);
    if (this.#closing) return this.#dropLines();
    if (this.#next === this.#lines.length) {
      this.#lines = [];
      this.#next = 0;
      if (this.#pausedFor === undefined) this.sock.resume();
      this.#endIfDone();
      return;
    }
    this.sock.pause();
    // Over the turn's bound: the rest next turn. Paused for work or output: #maybeResume calls again.
    if (this.#pausedFor === undefined) this.#nextTurn = setImmediate(this.#runLines);
  };

  #dropLines(): void {
    if (this.#nextTurn) clearImmediate(this.#nextTurn);
    this.#nextTurn = undefined;
    this.#lines = [];
    this.#next = 0;
  }

  #write(text: string): void {
    if (!this.sock.destroyed) this.sock.write(text);
  }

  #pause(why: 'work' | 'output'): void {
    this.#pausedFor ??= why;
    this.sock.pause();
  }

  #maybeResume(): void {
    if (this.#pausedFor === undefined || this.#closing) return;
    if (this.#inFlight >= this.#limits.maxInFlight || this.sock.writableLength > this.#limits.softOutputBytes) return;
    this.#pausedFor = undefined;
    if (this.#next < this.#lines.length) this.#nextTurn ??= setImmediate(this.#runLines);
    else this.sock.resume();
  }

  /** After the client's FIN: close once every request read before it is answered. */
  #endIfDone(): void {
    if (this.#inputEnded && this.#inFlight === 0 && this.#next === this.#lines.length && !this.#closing) this.end();
  }

  /** Send `reply` and close (after it is written); reading stops now. */
  #closeWith(reply: string, why?: string): void {
    if (this.#closing) return;
    if (why) this.#o.log.warn(`${this.#o.name}: ${why}; closing the connection that holds the most`);
    this.#closing = true;
    this.sock.pause();
    this.#out.push(reply);
    this.#out.flush();
    this.sock.destroySoon();
  }
}
