/**
 * The in-memory site map: mounted nodes keyed by their URL, and the lookup of
 * a request URL (issue 4 §2.2, reference model RM-2/RM-3).
 *
 * Lookup follows the OpenACS 4 design: try the URL itself, then URL + '/',
 * then strip path components from the right, accepting a node found that way
 * only if it is a pattern node. Every step is one Map probe, so the cost grows
 * with the number of '/' in the URL and not with the number of nodes.
 *
 * Only mounted nodes are stored: an unmounted URL is transparent and its
 * requests fall to the nearest pattern ancestor (at worst the root), instead
 * of OpenACS HEAD's jump straight to the root.
 *
 * The table is changed in place rather than copied on every edit: a request
 * resolves its node synchronously and then keeps the (frozen) node object, so
 * an edit can never be seen half-done, and a copy per edit would make loading
 * 100,000 nodes quadratic.
 */

export interface SiteNode {
  readonly nodeId: number;
  /** Always starts and ends with '/'. */
  readonly url: string;
  /** '' only for the root when no package is mounted there (global pageroot only). */
  readonly packageKey: string;
  readonly instanceName: string;
  /** Also serves URLs below it that no other node claims. */
  readonly pattern: boolean;
  /** Privileges granted on the enclosing node apply here too. */
  readonly inherit: boolean;
}

export type Resolution =
  | { readonly kind: 'node'; readonly node: SiteNode; readonly extraUrl: string }
  /** The request names a node's URL without its trailing '/'. */
  | { readonly kind: 'redirect'; readonly node: SiteNode };

export const ROOT_URL = '/';

export class SiteNodeTable {
  readonly #byUrl = new Map<string, SiteNode>();

  get(url: string): SiteNode | undefined {
    return this.#byUrl.get(url);
  }

  set(node: SiteNode): void {
    this.#byUrl.set(node.url, Object.freeze({ ...node }));
  }

  delete(url: string): boolean {
    return this.#byUrl.delete(url);
  }

  values(): IterableIterator<SiteNode> {
    return this.#byUrl.values();
  }

  /**
   * Resolve a normalised request URL. The root node must exist: it always
   * matches (the site map guarantees it is never removed).
   */
  resolve(url: string): Resolution {
    const exact = this.#byUrl.get(url);
    if (exact !== undefined) return { kind: 'node', node: exact, extraUrl: '' };
    if (!url.endsWith('/')) {
      const directory = this.#byUrl.get(url + '/');
      if (directory !== undefined) return { kind: 'redirect', node: directory };
    }
    for (let prefix = parentUrl(url); prefix !== undefined; prefix = parentUrl(prefix)) {
      const node = this.#byUrl.get(prefix);
      if (node !== undefined && (node.pattern || prefix === ROOT_URL)) {
        return { kind: 'node', node, extraUrl: url.slice(prefix.length) };
      }
    }
    throw new Error('site map has no root node');
  }

  /** The node whose privileges `node` inherits: the nearest mounted ancestor by URL. */
  enclosing(node: SiteNode): SiteNode | undefined {
    for (let prefix = parentUrl(node.url); prefix !== undefined; prefix = parentUrl(prefix)) {
      const parent = this.#byUrl.get(prefix);
      if (parent !== undefined) return parent;
    }
    return undefined;
  }
}

/**
 * The directory above `url`, ending in '/': `/a/b/c` and `/a/b/c/` both give
 * `/a/b/`; `/` has none. Called in a loop, it gives every ancestor, longest
 * first, the root last (a loop, not a generator: it runs on every request).
 */
export function parentUrl(url: string): string | undefined {
  const end = url.endsWith('/') ? url.length - 1 : url.length;
  return end <= 0 ? undefined : url.slice(0, url.lastIndexOf('/', end - 1) + 1);
}
