/**
 * What a URL names in this host's own resource space (on the home of its
 * author): a file and its version, a directory, or nothing.
 *
 * A versioned name `x.<n>.ext` whose `<n>` is the current version names the
 * current file (classic lond made a symbolic link for it): at the next
 * publication that content is kept under exactly that name, so a copy of it
 * never goes stale.
 */
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  currentNameOf,
  highestKeptVersion,
  resourceFile,
  versionInName,
  type ResourcePath,
} from '../store/resource-files';
import { isMissing } from './files';
import { MAX_META_BYTES, metaField } from './meta';

export type HomeLookup =
  | { readonly kind: 'file'; readonly file: string; readonly version: number }
  | { readonly kind: 'directory'; readonly dir: string }
  | { readonly kind: 'missing' };

export async function lookupOnHome(root: string, p: ResourcePath): Promise<HomeLookup> {
  const file = resourceFile(root, p);
  const kind = await kindOf(file);
  if (kind === 'directory') return { kind, dir: file };
  const name = basename(file);
  const asked = versionInName(name);
  if (kind === 'file') return { kind, file, version: asked ?? (await currentVersion(file)) };
  if (asked === undefined || p.rel.length === 0) return { kind: 'missing' };
  const current = join(dirname(file), currentNameOf(name));
  if ((await kindOf(current)) !== 'file' || (await currentVersion(current)) !== asked) return { kind: 'missing' };
  return { kind: 'file', file: current, version: asked };
}

/** The version of a current file: from its `.meta`, else one above the highest kept. */
export async function currentVersion(file: string): Promise<number> {
  const fromMeta = Number(metaField(await readMeta(file), 'version'));
  if (Number.isSafeInteger(fromMeta) && fromMeta > 0) return fromMeta;
  return (await highestKeptVersion(dirname(file), basename(file))) + 1;
}

/** The `.meta` text beside `file` ('' when there is none), at most MAX_META_BYTES. */
export async function readMeta(file: string): Promise<string> {
  let fh;
  try {
    fh = await open(`${file}.meta`, 'r');
  } catch (err) {
    if (isMissing(err)) return '';
    throw err;
  }
  try {
    const buf = Buffer.alloc(MAX_META_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function kindOf(path: string): Promise<'file' | 'directory' | 'missing'> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'missing';
  } catch (err) {
    if (isMissing(err)) return 'missing';
    throw err;
  }
}
