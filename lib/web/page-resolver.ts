/**
 * Steps 6 and 7 of the request processor: from a site node and extra URL to
 * the thing to serve. Files in any pageroot win over a directory listing,
 * and a listing wins over a `.vuh` handler (reference §3.4).
 *
 * Outcomes are cached for the same TTL as the file facts they derive from,
 * keyed by the node the URL resolved to (its id, and the site-map generation
 * it was resolved under) and the extra URL. Package key + mount URL + extra
 * URL would not do: `forums` at /forums/sub/ + `thread` and at /forums/ +
 * `sub/thread` read the same, and serve different files. Every site-map
 * edit also clears the cache (`clear`), so nothing resolved against the old
 * map is served after it.
 */
import { searchRoot } from './file-search';
import type { FsCache } from './fs-cache';
import { listableDirectory, searchRoots, type FoundFile, type PagerootDirs, type SearchRoot } from './pageroots';
import type { SiteNode } from './site-node-table';
import { cachedAsync, type MaybePromise, TtlCache } from './ttl-cache';
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
  readonly #cache: TtlCache<MaybePromise<PageTarget>>;

  constructor(config: ResolverConfig, ttlMs: number) {
    this.#config = config;
    this.#cache = new TtlCache(ttlMs, RESOLUTION_CACHE_MAX_ENTRIES);
  }

  /** `siteGeneration`: the site map's generation when `node` was looked up. */
  resolve(node: SiteNode, extraUrl: string, siteGeneration: number): MaybePromise<PageTarget> {
    const key = `${siteGeneration}:${node.nodeId}:${extraUrl}`;
    return cachedAsync(this.#cache, key, () => resolvePage(this.#config, node, extraUrl));
  }

  /** The site map changed: forget every resolution. */
  clear(): void {
    this.#cache.clear();
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
