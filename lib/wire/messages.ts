/**
 * The messages inside a sealed frame. One frame carries every message queued
 * for that connection in one loop turn, one per line (UTF-8, `\n`-joined);
 * commands and replies are single lines by definition, so a message never
 * contains `\n`.
 *
 *   q <id> <command>            request, reply wanted
 *   c <id> <msgid> <command>    critical request (exactly-once by msgid)
 *   r <id> <reply>              reply to request <id>
 *   p <id> <fragment>           the first pieces of a large reply; the `r`
 *                               with the same id carries the last piece
 *   k <n>                       keep-alive ping;  K <n>  its answer
 */
import { LoncapadError } from '../errors';

export type Message =
  | { readonly kind: 'q'; readonly id: number; readonly command: string }
  | { readonly kind: 'c'; readonly id: number; readonly msgid: string; readonly command: string }
  | { readonly kind: 'r' | 'p'; readonly id: number; readonly reply: string }
  | { readonly kind: 'k' | 'K'; readonly id: number };

export function encodeMessage(m: Message): string {
  switch (m.kind) {
    case 'q':
      return requestLine(m.id, m.command, undefined);
    case 'c':
      return requestLine(m.id, m.command, m.msgid);
    case 'r':
    case 'p':
      return `${m.kind} ${m.id} ${m.reply}`;
    case 'k':
    case 'K':
      return `${m.kind} ${m.id}`;
    default: {
      const never: never = m;
      return never;
    }
  }
}

/** A request's line, `q` or (with a msgid) `c`, without building its Message first (the link's send path). */
export function requestLine(id: number, command: string, msgid: string | undefined): string {
  return msgid === undefined ? `q ${id} ${command}` : `c ${id} ${msgid} ${command}`;
}

function bad(why: string): never {
  throw new LoncapadError('LC_ERR_BAD_FRAME', why);
}

/** Longest id: 15 decimal digits stay below 2^53. */
const MAX_ID_DIGITS = 15;

/**
 * The decimal id of `line` from index 2 up to `end` (a space or the line's
 * end); anything else is a protocol violation. Read digit by digit: no
 * slice, no pattern, for every message of every frame.
 */
function parseId(line: string, end: number): number {
  const digits = end - 2;
  if (digits < 1 || digits > MAX_ID_DIGITS) bad('bad message id');
  let id = 0;
  for (let i = 2; i < end; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) bad('bad message id');
    id = id * 10 + d;
  }
  return id;
}

export function decodeMessages(plain: Uint8Array): Message[] {
  const text = Buffer.from(plain.buffer, plain.byteOffset, plain.length).toString('utf8');
  const out: Message[] = [];
  for (const line of text.split('\n')) {
    const kind = line[0];
    if (line[1] !== ' ') bad('bad message');
    const sp = line.indexOf(' ', 2);
    const id = parseId(line, sp < 0 ? line.length : sp);
    switch (kind) {
      case 'q':
        if (sp < 0) bad('request without command');
        out.push({ kind, id, command: line.slice(sp + 1) });
        break;
      case 'c': {
        if (sp < 0) bad('critical request without message id');
        const sp2 = line.indexOf(' ', sp + 1);
        if (sp2 < 0) bad('critical request without command');
        out.push({ kind, id, msgid: line.slice(sp + 1, sp2), command: line.slice(sp2 + 1) });
        break;
      }
      case 'r':
      case 'p':
        out.push({ kind, id, reply: sp < 0 ? '' : line.slice(sp + 1) });
        break;
      case 'k':
      case 'K':
        if (sp >= 0) bad('bad keep-alive');
        out.push({ kind, id });
        break;
      default:
        bad('unknown message kind');
    }
  }
  return out;
}

/**
 * Split a reply into `p` fragments and a final `r`, each at most
 * `maxChars` long, never between the two halves of a surrogate pair.
 */
export function fragmentReply(id: number, reply: string, maxChars: number): string[] {
  if (reply.length <= maxChars) return [encodeMessage({ kind: 'r', id, reply })];
  const out: string[] = [];
  let start = 0;
  while (reply.length - start > maxChars) {
    let end = start + maxChars;
    const c = reply.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--; // keep the pair together
    out.push(encodeMessage({ kind: 'p', id, reply: reply.slice(start, end) }));
    start = end;
  }
  out.push(encodeMessage({ kind: 'r', id, reply: reply.slice(start) }));
  return out;
}
