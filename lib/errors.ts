/**
 * One error type for the whole daemon, with stable codes that callers (and
 * tests) switch on, and the single place where internal failures become the
 * classic wire vocabulary (`toClassicReply`).
 */

export type ErrorCode =
  | 'LC_ERR_CONFIG'
  | 'LC_ERR_HOSTS_TABLE'
  | 'LC_ERR_FRAME_TOO_LARGE'
  | 'LC_ERR_BAD_FRAME'
  | 'LC_ERR_DECRYPT'
  | 'LC_ERR_HANDSHAKE'
  | 'LC_ERR_NO_SUCH_HOST'
  | 'LC_ERR_UNKNOWN_COMMAND'
  | 'LC_ERR_REFUSED'
  | 'LC_ERR_BAD_ARGS'
  | 'LC_ERR_PEER_DOWN'
  | 'LC_ERR_TIMEOUT'
  | 'LC_ERR_SPOOL'
  | 'LC_ERR_NOT_RUNNING'
  | 'LC_ERR_ALREADY_RUNNING'
  | 'LC_ERR_LINE_TOO_LONG'
  | 'LC_ERR_STORE'
  | 'LC_ERR_TRANSIENT';

/** Why a link, session or client connection ended; logged and counted. */
export type CloseReason =
  | 'peer-closed'
  | 'read-error'
  | 'write-error'
  | 'protocol-violation'
  | 'handshake-failed'
  | 'ping-timeout'
  | 'frame-timeout'
  | 'idle-timeout'
  | 'transient-failure'
  | 'replaced'
  | 'host-removed'
  | 'host-changed'
  | 'shutdown';

export class LoncapadError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoncapadError';
    this.code = code;
  }
}

/** Handlers throw this for bad arguments; the reply is `error:<message>`. */
export function badArgs(message: string): LoncapadError {
  return new LoncapadError('LC_ERR_BAD_ARGS', message);
}

/**
 * Replies fall in three classes (docs/wire-protocol.md, "Reply classes"):
 *
 *   transient  `error:transient:<why>`: the receiver could not apply the
 *              message for a reason of its own (commit failed, disk full,
 *              internal error, shutting down). The sender of a critical
 *              message keeps it queued and tries again later.
 *   refusal    `refused`, `rejected`, `unknown_cmd`, any other `error:<text>`:
 *              the message itself is refused; retrying cannot help, so a
 *              spooled one is set aside for an operator.
 *   answer     everything else.
 *
 * A transient reply is still an `error:` to a caller that only checks the
 * prefix, so classic callers keep working.
 */
export const TRANSIENT_REPLY_PREFIX = 'error:transient:';

/** The reply that says "not applied, for a reason of mine; try again later". */
export function transientReply(why: string): string {
  return TRANSIENT_REPLY_PREFIX + oneLine(why);
}

export function isTransientReply(reply: string): boolean {
  return reply.startsWith(TRANSIENT_REPLY_PREFIX);
}

/** A definite refusal of the message itself: retrying will never help. */
export function isRefusal(reply: string): boolean {
  return reply === 'refused' || reply === 'rejected' || reply === 'unknown_cmd' || (reply.startsWith('error:') && !isTransientReply(reply));
}

/** What became of a request, as `loncapad call`'s exit code and the metrics' `result` label tell it. */
export type ReplyOutcome = 'answered' | 'delayed' | 'not_done' | 'refused';

const NOT_DONE_REPLIES: ReadonlySet<string> = new Set(['con_lost', 'con_failed', 'no_such_host']);

/**
 * `delayed`: spooled (`con_delayed`); `not_done`: may work later (`con_lost`,
 * `con_failed`, `no_such_host`, transient); `refused`: will not work as sent;
 * `answered`: anything else.
 */
export function replyOutcome(reply: string): ReplyOutcome {
  if (reply === 'con_delayed') return 'delayed';
  if (NOT_DONE_REPLIES.has(reply) || isTransientReply(reply)) return 'not_done';
  if (isRefusal(reply)) return 'refused';
  return 'answered';
}

/**
 * The one function that turns an exception into a classic reply line.
 * Our own store failures and anything unexpected (a bug, SQLITE_FULL, I/O)
 * are transient: the message was not applied, and nothing about it is wrong.
 * Details of crypto or handshake failures never reach a peer; they are logged.
 */
export function toClassicReply(err: unknown): string {
  if (err instanceof LoncapadError) {
    switch (err.code) {
      case 'LC_ERR_UNKNOWN_COMMAND':
        return 'unknown_cmd';
      case 'LC_ERR_REFUSED':
        return 'refused';
      case 'LC_ERR_NO_SUCH_HOST':
        return 'no_such_host';
      case 'LC_ERR_PEER_DOWN':
      case 'LC_ERR_TIMEOUT':
        return 'con_lost';
      case 'LC_ERR_SPOOL':
        return 'con_failed';
      case 'LC_ERR_DECRYPT':
      case 'LC_ERR_HANDSHAKE':
        return 'error:internal';
      case 'LC_ERR_STORE':
      case 'LC_ERR_TRANSIENT':
        return transientReply(err.message);
      default:
        return 'error:' + oneLine(err.message);
    }
  }
  return transientReply('internal error');
}

/** Replies are single lines: never let a message text break the framing. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * Another server could not answer in time (LC_ERR_PEER_DOWN, LC_ERR_TIMEOUT):
 * nothing is wrong with the request, and it may work in a while. Web pages
 * say "try again later" for it, never "wrong password" or "server error".
 */
export function isUnreachable(err: unknown): err is LoncapadError {
  return err instanceof LoncapadError && (err.code === 'LC_ERR_PEER_DOWN' || err.code === 'LC_ERR_TIMEOUT');
}

/** An error for one log line: its stack (or message) with the line breaks folded. */
export function describeForLog(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return text.replace(/\s*\n\s*/g, ' | ');
}
