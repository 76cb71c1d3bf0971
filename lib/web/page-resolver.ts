/**
 * Steps 6 and 7 of the request processor: from a site node and extra URL to
 * the thing to serve. Files in any pageroot win over a directory listing,
 * and a listing wins over a `.vuh` handler (reference §3.4).
 *
 * Outcomes are cached for the same TTL as the file facts they derive from.
 * The key holds everything that picks the pageroots (package key, mount URL)
 * and the extra URL, so a site-map edit is never answered from the cache:
 * the request lands on a different key.
 */
import { searchRoot } from './file-search';
import type { FsCache } from './fs-cache';
import { listableDirectory, searchRoots, type FoundFile, type PagerootDirs, type SearchRoot } from './pageroots';
import type { SiteNode } from './site-node-table';
import { cachedAsync, TtlCache } from './ttl-cache';
import { findVuh } from './vuh-search';

export type PageTarget =
  | { readonly kind: 'file'; readonly file: FoundFile; readonly pathInfo: string }
  | { readonly kind: 'redirect' }
  | { readonly kind: 'listing'; readonly dir: string }
  | { readonly kind: 'notfound' };

export interface ResolverConfig {
  readonly fs: FsCache;
  readonly dirs: PagerootDirs;
  /** Abstract-URL extensions in precedence order, 'vuh' last. */
  readonly extensions: readonly string[];
  readonly directoryListings: boolean;
}

const NOT_FOUND: PageTarget = { kind: 'notfound' };

/** Distinct URLs whose outcome is remembered. */
export const RESOLUTION_CACHE_MAX_ENTRIES = 10_000;

export class PageResolver {
  readonly #config: ResolverConfig;
  readonly #cache: TtlCache<Promise<PageTarget>>;

  constructor(config: ResolverConfig, ttlMs: number) {
    this.#config = config;
    this.#cache = new TtlCache(ttlMs, RESOLUTION_CACHE_MAX_ENTRIES);
  }

  resolve(node: SiteNode, extraUrl: string): Promise<PageTarget> {
    const key = node.packageKey + '\0' + node.url + extraUrl;
    return cachedAsync(this.#cache, key, () => resolvePage(this.#config, node, extraUrl));
  }
}

async function resolvePage(config: ResolverConfig, node: SiteNode, extraUrl: string): Promise<PageTarget> {
  const roots = searchRoots(config.dirs, node);
  let unindexed: { root: SearchRoot; dir: string } | undefined;
  for (const root of roots) {
    const outcome = await searchRoot(config.fs, root, '/' + extraUrl, config.extensions);
    switch (outcome.kind) {
      case 'file':
        return { kind: 'file', file: outcome.file, pathInfo: '' };
      case 'redirect':
        return outcome;
      case 'directory':
        unindexed = { root, dir: outcome.dir };
        break;
      case 'absent':
        break;
    }
  }
  if (config.directoryListings && unindexed !== undefined) {
    if (await listableDirectory(config.fs, unindexed.root, unindexed.dir)) return { kind: 'listing', dir: unindexed.dir };
  }
  const vuh = await findVuh(config.fs, roots, extraUrl);
  return vuh === null ? NOT_FOUND : { kind: 'file', file: vuh.file, pathInfo: vuh.pathInfo };
}
