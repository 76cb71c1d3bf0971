/**
 * Logging to stderr, one line per event: `<ISO time> <level> <text>`, or with
 * `--log-format json` one JSON object a line, `{"time","level","msg"}`, for
 * log shippers. systemd (journald) or the terminal that runs the daemon owns
 * the stream.
 *
 * Lines are collected and written once per loop turn: on Linux a write to a
 * pipe or file from process.stderr is synchronous, and a replay of thousands
 * of messages logs a line each. `flush()` runs at exit. Command lines go
 * through `redactCommand` so that secrets never reach the log.
 *
 * Every message is made printable on its way in: control characters (a
 * newline in a peer's claimed id, say) become `\xNN`, so no text a peer or
 * client chose can forge a log line.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  flush(): void;
  /** Is `level` logged? Check before building an expensive line. */
  enabled(level: LogLevel): boolean;
}

/** Sees every line that is logged (after the level filter), already printable: `at` is its ISO time. */
export type LogHook = (level: LogLevel, text: string, at: string) => void;

export function createLogger(
  level: LogLevel,
  write: (text: string) => void = (t) => process.stderr.write(t),
  format: LogFormat = 'text',
  hook?: LogHook,
): Logger {
  const line = format === 'json' ? jsonLine : textLine;
  const min = RANK[level];
  let lines: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    write(text);
  };
  const at = (lvl: LogLevel) =>
    RANK[lvl] < min
      ? () => {}
      : (msg: string) => {
          const time = new Date().toISOString();
          lines.push(line(time, lvl, msg));
          scheduled ??= setImmediate(flush);
          hook?.(lvl, printable(msg), time);
        };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), flush, enabled: (lvl) => RANK[lvl] >= min };
}

function textLine(time: string, level: LogLevel, msg: string): string {
  return `${time} ${level} ${printable(msg)}\n`;
}

/** JSON escapes every control character itself, so no message can break the line either. */
function jsonLine(time: string, level: LogLevel, msg: string): string {
  return JSON.stringify({ time, level, msg }) + '\n';
}

const CONTROL_RE = /[\x00-\x1f\x7f]/g;

/** `text` with every control character written as `\xNN`. */
export function printable(text: string): string {
  return text.replace(CONTROL_RE, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/** Longest command text we put in a log line. */
const LOGGED_COMMAND_CHARS = 200;

/** The command word only, for secret-bearing lines; a bounded, printable prefix otherwise. */
export function redactCommand(line: string, secret: boolean): string {
  if (secret) {
    const colon = line.indexOf(':');
    return (colon < 0 ? line : line.slice(0, colon)) + ':<redacted>';
  }
  const clean = line.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > LOGGED_COMMAND_CHARS ? clean.slice(0, LOGGED_COMMAND_CHARS) + '…' : clean;
}
