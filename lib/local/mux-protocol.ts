/**
 * The multiplexed local protocol (`SPOOL/loncapad.sock`), shared by the
 * daemon and the client library. Lines, UTF-8, many requests in flight:
 *
 *   greeting: 0 hello version=<v> reply_timeout_ms=<ms> critical_timeout_ms=<ms>
 *             (first line from the daemon: its default deadlines)
 *   request:  <id> <kind> <timeoutMs> <peer> <command>
 *             kind: `r` (reply wanted) or `c` (critical); timeoutMs 0 = the
 *             daemon's default, at most MAX_TIMEOUT_MS; peer `.` = this
 *             daemon itself
 *   reply:    <id> <reply line>
 *
 * Replies come back in any order; the id matches them. See docs/local-protocol.md.
 */
import { MAX_TIMEOUT_MS } from '../config/options';
import { LoncapadError } from '../errors';

export type RequestKind = 'r' | 'c';

export interface MuxRequest {
  readonly id: number;
  readonly kind: RequestKind;
  readonly timeoutMs: number;
  readonly peer: string;
  readonly command: string;
}

/** The daemon's own address in a mux request. */
export const SELF_PEER = '.';
/** Longest request or reply line, bytes. */
export const MAX_LOCAL_LINE_BYTES = 16 * 1024 * 1024;
export { MAX_TIMEOUT_MS };

/** What the daemon tells each client first. */
export interface Greeting {
  readonly version: string;
  /** The deadlines a request with timeoutMs 0 gets, ms. */
  readonly replyTimeoutMs: number;
  readonly criticalTimeoutMs: number;
}

const GREETING_RE = /^0 hello version=(\S+) reply_timeout_ms=(\d{1,10}) critical_timeout_ms=(\d{1,10})(?: |$)/;

export function formatGreeting(g: Greeting): string {
  return `0 hello version=${g.version} reply_timeout_ms=${g.replyTimeoutMs} critical_timeout_ms=${g.criticalTimeoutMs}`;
}

/** The greeting, or undefined when `line` is not one (unknown fields after the known ones are allowed). */
export function parseGreeting(line: string): Greeting | undefined {
  const m = GREETING_RE.exec(line);
  return m ? { version: m[1]!, replyTimeoutMs: Number(m[2]), criticalTimeoutMs: Number(m[3]) } : undefined;
}

/** Is `ms` a deadline a request may carry (0 = the daemon's default)? */
export function validTimeout(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIMEOUT_MS;
}

const REQUEST_RE = /^(\d{1,15}) ([rc]) (\d{1,10}) (\S{1,255}) (.*)$/s;

export function formatRequest(r: MuxRequest): string {
  if (r.command.includes('\n')) throw new LoncapadError('LC_ERR_BAD_ARGS', 'a command is one line');
  if (!validTimeout(r.timeoutMs)) throw new LoncapadError('LC_ERR_BAD_ARGS', `timeoutMs must be an integer from 0 to ${MAX_TIMEOUT_MS}`);
  return `${r.id} ${r.kind} ${r.timeoutMs} ${r.peer} ${r.command}`;
}

/** Parses a request line; on error the id (if any) rides along for the reply. */
export function parseRequest(line: string): MuxRequest | { readonly id: number; readonly error: string } {
  const m = REQUEST_RE.exec(line);
  if (!m) {
    const id = /^(\d{1,15}) /.exec(line);
    return { id: id ? Number(id[1]) : 0, error: 'error:bad request (expected "<id> <r|c> <timeoutMs> <peer> <command>")' };
  }
  if (m[5] === '') return { id: Number(m[1]), error: 'error:empty command' };
  const timeoutMs = Number(m[3]);
  if (!validTimeout(timeoutMs)) return { id: Number(m[1]), error: `error:timeout above ${MAX_TIMEOUT_MS} ms` };
  return { id: Number(m[1]), kind: m[2] as RequestKind, timeoutMs, peer: m[4]!, command: m[5]! };
}

export function formatReply(id: number, reply: string): string {
  return `${id} ${reply.replace(/[\r\n]+/g, ' ')}`;
}

export function parseReply(line: string): { readonly id: number; readonly reply: string } {
  const sp = line.indexOf(' ');
  const id = Number(sp < 0 ? line : line.slice(0, sp));
  if (!Number.isSafeInteger(id)) throw new LoncapadError('LC_ERR_BAD_FRAME', 'bad reply line from the daemon');
  return { id, reply: sp < 0 ? '' : line.slice(sp + 1) };
}
