/** Shared output helpers for the subcommands. */
import { LoncapadError } from '../errors';

/** Print an error the way operators read it, and set the exit code. */
export function reportError(err: unknown): void {
  const e = err as Error;
  process.stderr.write(`loncapad: ${e.message}\n`);
  process.exitCode = err instanceof LoncapadError && (err.code === 'LC_ERR_NOT_RUNNING' || err.code === 'LC_ERR_TIMEOUT') ? 2 : 1;
}

/** Left-aligned columns, for people; `--json` is for programs. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export const SPOOL_OPTION = {
  spool: { type: 'string', default: './spool', describe: "the daemon's state directory" },
} as const;
