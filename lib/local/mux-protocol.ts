/**
 * The multiplexed local protocol (`SPOOL/loncapad.sock`), shared by the
 * daemon and the client library. Lines, UTF-8, many requests in flight:
 *
 *   request:  <id> <kind> <timeoutMs> <peer> <command>
 *             kind: `r` (reply wanted) or `c` (critical); timeoutMs 0 = the
 *             daemon's default; peer `.` = this daemon itself
 *   reply:    <id> <reply line>
 *
 * Replies come back in any order; the id matches them. See docs/local-protocol.md.
 */
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

const REQUEST_RE = /^(\d{1,15}) ([rc]) (\d{1,10}) (\S{1,255}) (.*)$/s;

export function formatRequest(r: MuxRequest): string {
  if (r.command.includes('\n')) throw new LoncapadError('LC_ERR_BAD_ARGS', 'a command is one line');
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
  return { id: Number(m[1]), kind: m[2] as RequestKind, timeoutMs: Number(m[3]), peer: m[4]!, command: m[5]! };
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
