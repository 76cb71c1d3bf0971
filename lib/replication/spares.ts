/**
 * The spare servers of an access server (classic `spares.tab`), read at start
 * and on SIGHUP from `--spares FILE`:
 *
 *   # one lonid a line: a default spare
 *   msua3
 *   # or a group, a colon, and lonids (separated by spaces or commas)
 *   primary: msua2 msua4
 *   default: msua5
 *
 * Primaries are preferred; defaults are used when no primary qualifies. A
 * lonid must be in the hosts table and not this host; errors name the file
 * and the line.
 */
import { readFileSync } from 'node:fs';
import type { HostsTable } from '../config';
import { LoncapadError } from '../errors';

export interface Spares {
  readonly primary: readonly string[];
  readonly default: readonly string[];
}

export const NO_SPARES: Spares = { primary: [], default: [] };

const GROUP_RE = /^(primary|default)\s*:\s*(.*)$/;

export function parseSpares(text: string, source: string, hosts: HostsTable, selfId: string): Spares {
  const groups: { primary: string[]; default: string[] } = { primary: [], default: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const m = GROUP_RE.exec(line);
    const group = m ? (m[1] as 'primary' | 'default') : 'default';
    for (const id of (m ? m[2]! : line).split(/[\s,]+/).filter((s) => s !== '')) {
      const where = `${source}:${i + 1}`;
      if (!hosts.has(id)) throw new LoncapadError('LC_ERR_CONFIG', `${where}: ${id} is not in the hosts table`);
      if (id === selfId) throw new LoncapadError('LC_ERR_CONFIG', `${where}: ${id} is this host, not a spare`);
      if (!groups.primary.includes(id) && !groups.default.includes(id)) groups[group].push(id);
    }
  });
  return groups;
}

/** Read the spares file (start and SIGHUP only: synchronous). No file: no spares. */
export function readSpares(file: string | undefined, hosts: HostsTable, selfId: string): Spares {
  if (file === undefined) return NO_SPARES;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LoncapadError('LC_ERR_CONFIG', `cannot read the spares file ${file}: ${(err as Error).message}`);
  }
  return parseSpares(text, file, hosts, selfId);
}
