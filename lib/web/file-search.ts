/**
 * The concrete file search over one pageroot (reference §3.2, RM-8/RM-9):
 *
 *   1. a URL ending in '/' names a directory: it must exist, and its `index` is searched
 *   2. the path itself, if it is a regular file (an explicit extension, or none at all)
 *   3. `<path>.<ext>` for each extension in precedence order, `.vuh` always last;
 *      every candidate is tested for existence (no globbing, no alphabetical fallback)
 *   4. nothing found but the path is a directory: redirect to the URL + '/'
 *   5. a directory without an index: remembered for a listing
 * A found file or a redirect ends the whole search; 'directory' and 'absent'
 * let the caller try the next pageroot.
 */
import type { FsCache } from './fs-cache';
import { servableFile, type FoundFile, type SearchRoot } from './pageroots';

export type RootOutcome =
  | { readonly kind: 'file'; readonly file: FoundFile }
  | { readonly kind: 'redirect' }
  | { readonly kind: 'directory'; readonly dir: string }
  | { readonly kind: 'absent' };

const ABSENT: RootOutcome = { kind: 'absent' };
const REDIRECT: RootOutcome = { kind: 'redirect' };

/**
 * @param rel '/' + extra URL (trailing '/' kept)
 * @param extensions abstract-URL extensions in precedence order, ending with 'vuh'
 */
export async function searchRoot(
  fs: FsCache,
  root: SearchRoot,
  rel: string,
  extensions: readonly string[],
): Promise<RootOutcome> {
  const path = root.base + rel;
  const wantsDirectory = rel.endsWith('/');
  if (wantsDirectory && !(await fs.isDirectory(path))) return ABSENT;
  const base = wantsDirectory ? path + 'index' : path;
  const exact = await servableFile(fs, root, base);
  if (exact !== null) return { kind: 'file', file: exact };
  for (const ext of extensions) {
    const candidate = await servableFile(fs, root, base + '.' + ext);
    if (candidate !== null) return { kind: 'file', file: candidate };
  }
  if (wantsDirectory) return { kind: 'directory', dir: path };
  return (await fs.isDirectory(path)) ? REDIRECT : ABSENT;
}
