/**
 * Unknown setting names, told by where they came from. yargs (strict) would
 * only say `Unknown argument: httpProt` for a mistyped LONCAPAD_HTTP_PROT or a
 * config-file key, leaving the operator to guess which of three places holds
 * the typo. These checks run first and name the variable or the file and key:
 *
 *   unknown environment variable LONCAPAD_HTTP_PROT (did you mean LONCAPAD_HTTP_PORT?)
 *   c.json: unknown key "prot" (did you mean "port"?)
 *
 * Flags are left to yargs, whose message already names the flag as typed.
 */
import { readFileSync } from 'node:fs';
import { LoncapadError } from '../errors';
import { START_OPTIONS } from './options';

export const ENV_PREFIX = 'LONCAPAD_';

const NAMES: readonly string[] = Object.keys(START_OPTIONS);
const KNOWN: ReadonlySet<string> = new Set(NAMES);

/** `LONCAPAD_HTTP_PORT` → `http-port`. */
function settingOfVariable(variable: string): string {
  return variable.slice(ENV_PREFIX.length).toLowerCase().replace(/_/g, '-');
}

/** `httpPort` or `http-port` → `http-port`. */
function settingOfKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function checkEnvironment(env: NodeJS.ProcessEnv): void {
  const unknown = Object.keys(env)
    .filter((v) => v.startsWith(ENV_PREFIX) && !KNOWN.has(settingOfVariable(v)))
    .sort();
  if (unknown.length === 0) return;
  const named = unknown.map((v) => {
    const near = nearest(settingOfVariable(v));
    return near === undefined ? v : `${v} (did you mean ${ENV_PREFIX}${near.toUpperCase().replace(/-/g, '_')}?)`;
  });
  throw new LoncapadError('LC_ERR_CONFIG', `unknown environment variable${unknown.length > 1 ? 's' : ''} ${named.join(', ')}`);
}

/** Read the JSON configuration file `file` (as the operator named it) and refuse keys that are no setting. */
export function checkConfigFile(file: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LoncapadError('LC_ERR_CONFIG', `${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LoncapadError('LC_ERR_CONFIG', `${file}: expected one JSON object of settings`);
  }
  const unknown = Object.keys(parsed).filter((k) => !KNOWN.has(settingOfKey(k)));
  if (unknown.length === 0) return;
  const named = unknown.map((k) => {
    const near = nearest(settingOfKey(k));
    return near === undefined ? `"${k}"` : `"${k}" (did you mean "${/[A-Z]/.test(k) || !k.includes('-') ? camel(near) : near}"?)`;
  });
  throw new LoncapadError('LC_ERR_CONFIG', `${file}: unknown key${unknown.length > 1 ? 's' : ''} ${named.join(', ')}`);
}

function camel(setting: string): string {
  return setting.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The setting within two edits of `name`, if exactly one is that close. */
function nearest(name: string): string | undefined {
  const close = NAMES.filter((n) => editDistance(n, name) <= 2);
  return close.length === 1 ? close[0] : undefined;
}

/** Levenshtein distance; names are short, so the plain table is fine. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}
