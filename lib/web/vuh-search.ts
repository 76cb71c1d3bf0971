/**
 * Virtual URL handler search (reference §4, RM-12): when no file matched,
 * try `.vuh` files over every prefix of the extra URL, most specific first,
 * and for each prefix every pageroot in PAGEROOT ORDER.
 *
 *   prefix `/a/` → <base>/a/index.vuh     pathInfo = rest without a leading '/'  (`b/c`)
 *   prefix `/a`  → <base>/a.vuh           pathInfo = rest with a leading '/'     (`/b/c`)
 *
 * The prefixes come from the extra URL, so in the global pageroot the search
 * stays inside the mount: `www/foo.vuh` never catches URLs of a package
 * mounted at `/foo/` (OpenACS since 2008, reference D3).
 */
import type { FsCache } from './fs-cache';
import { servableFile, type FoundFile, type SearchRoot } from './pageroots';

export interface VuhHit {
  readonly file: FoundFile;
  readonly pathInfo: string;
}

/** `a/b/c` → `/a/b/c/`, `/a/b/c`, `/a/b/`, `/a/b`, `/a/`, `/a`, `/` (a trailing '/' on the input is ignored). */
export function vuhPrefixes(extraUrl: string): string[] {
  const out: string[] = [];
  let current = ('/' + extraUrl).replace(/\/$/, '');
  while (current !== '') {
    out.push(current + '/', current);
    current = current.slice(0, current.lastIndexOf('/'));
  }
  out.push('/');
  return out;
}

export async function findVuh(fs: FsCache, roots: readonly SearchRoot[], extraUrl: string): Promise<VuhHit | null> {
  const fullRest = '/' + extraUrl;
  for (const prefix of vuhPrefixes(extraUrl)) {
    const name = prefix.endsWith('/') ? prefix + 'index.vuh' : prefix + '.vuh';
    for (const root of roots) {
      const file = await servableFile(fs, root, root.base + name);
      if (file !== null) return { file, pathInfo: fullRest.slice(prefix.length) };
    }
  }
  return null;
}
