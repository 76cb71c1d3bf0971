/**
 * Which directories a request searches, in which order, and which files in
 * them may ever be served.
 *
 * PAGEROOT ORDER (the design document's, not OpenACS code's; reference D1):
 *   1. the site's package pageroot     SITE/packages/<key>/www   + '/' + extra URL
 *   2. the shipped package pageroot    <packagesDir>/<key>/www   + '/' + extra URL
 *   3. the global pageroot             SITE/www                  + full URL
 * So a package's own files win over stray files under the global pageroot,
 * and a site can override or add single files of a package loncapad ships.
 *
 * The root node without a package searches the global pageroot, then
 * loncapad's shipped front pages (`<packagesDir>/front/www`): a fresh site
 * has a front page, and a site's own `www/index.html` replaces it (the
 * global pageroot comes first here, as it does in OpenACS code).
 */
import { sep } from 'node:path';
import type { FileFacts, FsCache } from './fs-cache';
import type { SiteNode } from './site-node-table';

export interface PagerootDirs {
  /** Holds `www/` and `packages/<key>/www/`. */
  readonly siteDir: string;
  /** loncapad's shipped packages: `<key>/www/` each. */
  readonly packagesDir: string;
}

export interface SearchRoot {
  /** The pageroot directory: nothing outside it is served. */
  readonly dir: string;
  /** What the extra URL is appended to: the pageroot, or for the global one pageroot + mount URL. */
  readonly base: string;
}

/** The shipped package whose pages serve the root node when nothing is mounted there. */
export const FRONT_PACKAGE = 'front';

export function searchRoots(dirs: PagerootDirs, node: SiteNode): SearchRoot[] {
  const globalDir = dirs.siteDir + sep + 'www';
  const globalRoot = { dir: globalDir, base: globalDir + node.url.slice(0, -1) };
  if (node.packageKey === '') {
    const front = [dirs.packagesDir, FRONT_PACKAGE, 'www'].join(sep);
    return [globalRoot, { dir: front, base: front }];
  }
  const sitePackage = [dirs.siteDir, 'packages', node.packageKey, 'www'].join(sep);
  const shippedPackage = [dirs.packagesDir, node.packageKey, 'www'].join(sep);
  return [
    { dir: sitePackage, base: sitePackage },
    { dir: shippedPackage, base: shippedPackage },
    globalRoot,
  ];
}

/**
 * Names never served, whatever the URL: backups and editor leftovers
 * (`*~`, `*.bak`, `*.orig`), and the TypeScript source and build by-products
 * of page modules (the compiled `*.page.js` runs; its `.ts`, `.d.ts` and
 * `.js.map` would disclose the source). Dotfiles are refused separately.
 */
const EXCLUDED_NAME_RE = /(~|\.bak|\.orig|\.page\.ts|\.page\.d\.ts|\.page\.js\.map)$/;

export function isHiddenName(name: string): boolean {
  return name.startsWith('.') || EXCLUDED_NAME_RE.test(name);
}

export interface FoundFile {
  /** The path as searched (what pages see as `env.file`). */
  readonly path: string;
  /** Symlinks resolved: what is opened or required. */
  readonly realPath: string;
  readonly facts: FileFacts;
}

/**
 * `path` if it is a regular file that may be served from `root`: its name is
 * not hidden, and its real path (symlinks resolved) lies inside the pageroot's
 * real path with no hidden segment on the way (a symlink named `env` that
 * points at `.env` is refused too).
 */
export async function servableFile(fs: FsCache, root: SearchRoot, path: string): Promise<FoundFile | null> {
  const facts = await fs.isFile(path);
  if (facts === null || isHiddenName(path.slice(path.lastIndexOf(sep) + 1))) return null;
  const [realPath, realRoot] = await Promise.all([fs.realpath(path), fs.realpath(root.dir)]);
  if (realPath === null || realRoot === null || !realPath.startsWith(realRoot + sep)) return null;
  const inside = realPath.slice(realRoot.length + 1).split(sep);
  return inside.some(isHiddenName) ? null : { path, realPath, facts };
}

/** Same containment rule for a directory about to be listed. */
export async function listableDirectory(fs: FsCache, root: SearchRoot, dir: string): Promise<boolean> {
  const [realDir, realRoot] = await Promise.all([fs.realpath(dir), fs.realpath(root.dir)]);
  if (realDir === null || realRoot === null) return false;
  if (realDir === realRoot) return true;
  return realDir.startsWith(realRoot + sep) && !realDir.slice(realRoot.length + 1).split(sep).some(isHiddenName);
}
