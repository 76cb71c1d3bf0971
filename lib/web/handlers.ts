/**
 * Handlers registered by code on a URL subtree or one exact URL (reference
 * §5.2, RM-14). They run after session, authorisation and filters, instead of
 * the file search. The longest registered path wins; at equal length an exact
 * registration beats a subtree one. Lookup walks the URL's prefixes from the
 * right, like the site map, so its cost does not grow with registrations.
 */
import { badArgs } from '../errors';
import { normalizePath } from './normalize-url';
import type { PageHandler } from './request-env';
import { parentUrl } from './site-node-table';

export interface HandlerOptions {
  /** Match only this URL (with or without a trailing '/'), not the URLs below it. Default false. */
  readonly exact?: boolean;
}

export interface HandlerMatch {
  readonly handler: PageHandler;
  /** The URL after the registered path: '/x/y' below a subtree registration, '' for the path itself. */
  readonly pathInfo: string;
}

interface Slot {
  exact?: PageHandler;
  subtree?: PageHandler;
}

export class HandlerRegistry {
  readonly #byPath = new Map<string, Slot>();

  register(path: string, handler: PageHandler, options: HandlerOptions = {}): () => void {
    const key = handlerKey(path);
    const kind = options.exact === true ? 'exact' : 'subtree';
    let slot = this.#byPath.get(key);
    if (slot === undefined) this.#byPath.set(key, (slot = {}));
    if (slot[kind] !== undefined) throw badArgs(`a ${kind} handler is already registered at ${key}`);
    slot[kind] = handler;
    return () => {
      const current = this.#byPath.get(key);
      if (current?.[kind] !== handler) return;
      delete current[kind];
      if (current.exact === undefined && current.subtree === undefined) this.#byPath.delete(key);
    };
  }

  match(url: string): HandlerMatch | undefined {
    if (this.#byPath.size === 0) return undefined;
    const key = url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url;
    const own = this.#byPath.get(key);
    const here = own?.exact ?? own?.subtree;
    if (here !== undefined) return { handler: here, pathInfo: '' };
    for (let prefix = parentUrl(key); prefix !== undefined; prefix = parentUrl(prefix)) {
      const path = prefix.length > 1 ? prefix.slice(0, -1) : prefix;
      const subtree = this.#byPath.get(path)?.subtree;
      if (subtree !== undefined) return { handler: subtree, pathInfo: path === '/' ? url : url.slice(path.length) };
    }
    return undefined;
  }
}

/** Registered paths follow the request URL rules, without a trailing '/'. */
function handlerKey(path: string): string {
  const normalized = path.startsWith('/') ? normalizePath(path) : undefined;
  if (normalized === undefined) throw badArgs(`bad handler path: ${path}`);
  return normalized.urlv.length === 0 ? '/' : '/' + normalized.urlv.join('/');
}
