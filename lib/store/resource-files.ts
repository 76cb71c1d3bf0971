/**
 * The resource space on disk: `RESOURCE_DIR/<domain>/<author>/<path>`, named
 * by URL as `/res/<domain>/<author>/<path>`.
 *
 * Classic callers sent file-system paths below their document root
 * (`/home/httpd/html/res/<dom>/<author>/…`); new ones send `/res/<dom>/…`.
 * Both mean the part after the first `res` segment. A path may not climb
 * (`.`/`..` segments are refused) and may not carry control characters.
 *
 * Versions [classic publisher]: `name.ext` is the current version and
 * `name.<n>.ext` the kept older ones; `<file>.meta` sits beside each. The
 * current version number is one above the highest kept, 1 when none is kept.
 *
 * Names ending `.in.transfer` (a copy being received) or `.in.publish` (a
 * version being installed) are work files, never resources.
 */
import { opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { badArgs } from '../errors';

const RESOURCE_SEGMENT = 'res';
const PATH_CONTROL_RE = /[\x00-\x1f\x7f]/;
/** Domains and authors: as the user store names them. */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;
/** `name.<n>.ext` (the ext may itself end in `.meta`). */
const VERSIONED_RE = /\.(\d+)\.(\w+(?:\.meta)*)$/;
const STEM_EXT_RE = /^(.*)\.(\w+(?:\.meta)*)$/;
const WORK_FILE_RE = /\.in\.(?:transfer|publish)$/;
/** A directory with more entries than this is refused rather than read one by one. */
export const MAX_DIRECTORY_ENTRIES = 20_000;

/** Segments of a resource path below the root; undefined without a `res` segment; throws on climbing or junk. */
export function resourceSegments(path: string): string[] | undefined {
  if (PATH_CONTROL_RE.test(path)) throw badArgs('control character in path');
  const all = path.split('/').filter((s, i, a) => !(s === '' && (i === 0 || i === a.length - 1)));
  if (all.some((s) => s === '' || s === '.' || s === '..')) throw badArgs('bad path');
  const at = all.indexOf(RESOURCE_SEGMENT);
  return at < 0 ? undefined : all.slice(at + 1);
}

/** One resource (or directory) of an author, by URL. */
export interface ResourcePath {
  readonly domain: string;
  readonly author: string;
  /** Segments below the author's directory; empty for the author's directory itself. */
  readonly rel: readonly string[];
  /** `/res/<domain>/<author>[/<rel>…]`, without a trailing `/`. */
  readonly url: string;
}

/**
 * A path naming something of one author, or undefined when it names
 * nothing an author owns (no `res` segment, no author, a bad name, a work
 * file). Throws `error:` for climbing and control characters.
 */
export function parseResourcePath(path: string): ResourcePath | undefined {
  const segments = resourceSegments(path);
  if (segments === undefined || segments.length < 2) return undefined;
  const [domain, author, ...rel] = segments as [string, string, ...string[]];
  if (!NAME_RE.test(domain) || !NAME_RE.test(author)) return undefined;
  if (rel.length > 0 && isWorkFile(rel[rel.length - 1]!)) return undefined;
  return { domain, author, rel, url: `/${RESOURCE_SEGMENT}/${segments.join('/')}` };
}

/** The file or directory of `p` below the resource root. */
export function resourceFile(root: string, p: ResourcePath): string {
  return join(root, p.domain, p.author, ...p.rel);
}

export function isWorkFile(name: string): boolean {
  return WORK_FILE_RE.test(name);
}

/** `name.<n>.ext` → `name.ext` (as classic lond did before counting); other names unchanged. */
export function currentNameOf(name: string): string {
  return name.replace(VERSIONED_RE, '.$2');
}

/** The version number in `name.<n>.ext`, or undefined for a current name. */
export function versionInName(name: string): number | undefined {
  const m = VERSIONED_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** `name.ext` → `name.<n>.ext`; undefined for a name without an extension. */
export function keptName(name: string, n: number): string | undefined {
  const parts = STEM_EXT_RE.exec(name);
  return parts ? `${parts[1]}.${n}.${parts[2]}` : undefined;
}

/**
 * The highest `<n>` kept beside current name `name` in `dir` (0 when none).
 * Reads the directory (bounded by MAX_DIRECTORY_ENTRIES).
 */
export async function highestKeptVersion(dir: string, name: string): Promise<number> {
  const parts = STEM_EXT_RE.exec(name);
  if (!parts) return 0;
  const kept = new RegExp(`^${escapeRegExp(parts[1]!)}\\.(\\d+)\\.${escapeRegExp(parts[2]!)}$`);
  let highest = 0;
  let entries = 0;
  for await (const entry of await opendir(dir)) {
    if (++entries > MAX_DIRECTORY_ENTRIES) throw badArgs(`directory has more than ${MAX_DIRECTORY_ENTRIES} entries`);
    const m = entry.isFile() ? kept.exec(entry.name) : null;
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  return highest;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
