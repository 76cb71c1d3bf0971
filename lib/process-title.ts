/**
 * The process title that `ps` and `top` show: `loncapad msul1: 3 up, 1 dead, 12 spooled`.
 *
 * Linux keeps a process's title in the memory that held its original command
 * line, and libuv writes `process.title` there, so a title can never be longer
 * than the command line the process was started with: `node bin/loncapad start`
 * (what `npm start` used to run) leaves 23 bytes, and a longer title is cut
 * mid-word. Node 20 cannot re-exec itself with a longer command line
 * (process.execve arrived in Node 22.15), and prctl(PR_SET_MM_ARG_START/END)
 * needs CAP_SYS_RESOURCE. So:
 *
 *   - `bin/loncapad-start` (npm start, the systemd unit) starts node with a
 *     padded `--title`, which gives the title room to spare;
 *   - here, a title that does not fit the room there is falls back to a
 *     compact form, and only that is ever cut.
 */
import { readFileSync } from 'node:fs';

let room: number | undefined;

/**
 * Bytes a title may take: the length of the original command line, less its
 * final NUL. Read once (the kernel reports the whole area whatever was written
 * into it since); Infinity where there is no /proc (no such limit is known).
 */
export function titleRoom(): number {
  if (room === undefined) {
    try {
      room = readFileSync('/proc/self/cmdline').length - 1;
    } catch {
      room = Infinity; // not Linux: no /proc/self/cmdline, and no known limit
    }
  }
  return room;
}

/** The full title if it fits in `roomBytes`, else the compact one, cut to fit if it must be. */
export function fitTitle(full: string, compact: string, roomBytes: number): string {
  if (Buffer.byteLength(full) <= roomBytes) return full;
  if (Buffer.byteLength(compact) <= roomBytes) return compact;
  return Buffer.from(compact).subarray(0, Math.max(0, roomBytes)).toString('utf8').replace(/\uFFFD$/, '');
}

/** Counts of one daemon, as the title shows them. */
export interface TitleCounts {
  readonly hostId: string;
  readonly up: number;
  readonly dead: number;
  readonly spooled: number;
}

export function daemonTitle(c: TitleCounts, roomBytes = titleRoom()): string {
  return fitTitle(
    `loncapad ${c.hostId}: ${c.up} up, ${c.dead} dead, ${c.spooled} spooled`,
    `loncapad ${c.hostId} ${c.up}u ${c.dead}d ${c.spooled}s`,
    roomBytes,
  );
}
