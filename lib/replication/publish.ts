/**
 * Publication on the author's home (classic lonpublisher, §5.3):
 *
 *   copy SRC into <file>.in.publish, hashing as it streams ─▶ fsync
 *   the current version (if any) is kept as name.<n>.ext (+ .meta) by a hard
 *     link, so the current name never goes missing
 *   rename the new version over name.ext ─▶ write name.ext.meta (atomic)
 *   send critical `update:<url>` to every subscriber, in parallel, and report
 *     each reply (an unreachable subscriber gets it from the spool later)
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, rename, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { badArgs } from '../errors';
import { highestKeptVersion, keptName, resourceFile, versionInName, type ResourcePath } from '../store/resource-files';
import { isMissing, removeQuietly, writeFileAtomic } from './files';
import { currentVersion, readMeta } from './home-files';
import { formatMeta, metaField } from './meta';

/** Read size when copying the source: bounds memory per publication. */
const COPY_READ_BYTES = 256 * 1024;

export interface PublishRequest {
  /** Absolute path of the new version on this machine. */
  readonly src: string;
  readonly resource: ResourcePath;
  /** Title for the .meta; default the previous version's, else the file name. */
  readonly title: string | undefined;
}

export interface Installed {
  readonly url: string;
  readonly version: number;
  readonly size: number;
  readonly sha256: string;
  /** The name the previous version is kept under, or null for a first publication. */
  readonly kept: string | null;
  /** stat of the installed file (to remember its digest). */
  readonly stats: Stats;
}

/** Check that `p` can be published at all (a current name with an extension). */
export function checkPublishable(p: ResourcePath): void {
  const name = p.rel[p.rel.length - 1];
  if (name === undefined) throw badArgs('publish needs a file URL: /res/<domain>/<author>/<path>');
  if (versionInName(name) !== undefined) throw badArgs(`${name} is a kept version's name; publish the current name`);
  if (keptName(name, 1) === undefined) throw badArgs(`${name} has no extension (resources are name.ext)`);
  if (name.endsWith('.meta')) throw badArgs('.meta files are written by publish itself');
}

/** Install a new version of `r.resource` under `root` (the caller serialises per URL). */
export async function installVersion(root: string, r: PublishRequest): Promise<Installed> {
  const p = r.resource;
  checkPublishable(p);
  const file = resourceFile(root, p);
  const dir = dirname(file);
  const name = basename(file);
  await mkdir(dir, { recursive: true });
  const work = `${file}.in.publish`;
  let copied: { size: number; sha256: string };
  try {
    copied = await copyWithDigest(r.src, work);
  } catch (err) {
    await removeQuietly(work);
    throw badArgs(`cannot copy ${r.src}: ${(err as Error).message}`);
  }
  const previousMeta = await readMeta(file);
  let version: number;
  let kept: string | null = null;
  if (await exists(file)) {
    const old = await currentVersion(file);
    kept = keptName(name, old)!;
    await linkKept(file, `${dir}/${kept}`);
    if (previousMeta !== '') await linkKept(`${file}.meta`, `${dir}/${kept}.meta`);
    version = old + 1;
  } else {
    version = (await highestKeptVersion(dir, name)) + 1;
  }
  await rename(work, file);
  const title = r.title ?? metaField(previousMeta, 'title') ?? name;
  const meta = formatMeta({
    title,
    author: `${p.author}:${p.domain}`,
    version,
    size: copied.size,
    sha256: copied.sha256,
    publishedAt: Date.now(),
  });
  await writeFileAtomic(`${file}.meta`, meta, `${file}.meta.in.publish`);
  return { url: p.url, version, size: copied.size, sha256: copied.sha256, kept, stats: await stat(file) };
}

async function copyWithDigest(src: string, dest: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const out = await open(dest, 'w', 0o644);
  let size = 0;
  try {
    for await (const chunk of createReadStream(src, { highWaterMark: COPY_READ_BYTES })) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      await out.write(bytes);
      size += bytes.length;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/** Keep `file` under `keptPath` too; an earlier, interrupted publication may have done it already. */
async function linkKept(file: string, keptPath: string): Promise<void> {
  try {
    await link(file, keptPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}
