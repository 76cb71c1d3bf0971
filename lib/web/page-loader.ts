/**
 * Loading page modules (`*.page.js`) and virtual URL handlers (`*.vuh`, which
 * are CommonJS modules too: Node's loader treats an unknown extension as
 * JavaScript). A module exports its handler as `module.exports`, `default` or
 * `handler`.
 *
 * require() reads the file synchronously, once per module version: a module
 * whose size or mtime changed since it was loaded is dropped from require's
 * cache and loaded again, so editing a page needs no restart (OpenACS reloads
 * changed files too, outside its performance mode). Modules it requires are
 * not reloaded.
 */
import { LoncapadError } from '../errors';
import type { FileFacts } from './fs-cache';
import type { FoundFile } from './pageroots';
import type { PageHandler } from './request-env';

export type PageKind = 'page' | 'vuh' | 'static';

/** What handles an explicit file, by its (compound) extension. */
export function pageKindOf(path: string): PageKind {
  if (path.endsWith('.page.js')) return 'page';
  if (path.endsWith('.vuh')) return 'vuh';
  return 'static';
}

interface Loaded {
  readonly size: number;
  readonly mtimeMs: number;
  readonly handler: PageHandler;
}

export class PageLoader {
  readonly #loaded = new Map<string, Loaded>();

  load(file: FoundFile): PageHandler {
    const { realPath, facts } = file;
    const known = this.#loaded.get(realPath);
    if (known !== undefined && sameVersion(known, facts)) return known.handler;
    if (known !== undefined) delete require.cache[realPath];
    const handler = handlerOf(require(realPath) as unknown, realPath);
    this.#loaded.set(realPath, { size: facts.size, mtimeMs: facts.mtimeMs, handler });
    return handler;
  }
}

function sameVersion(loaded: Loaded, facts: FileFacts): boolean {
  return loaded.size === facts.size && loaded.mtimeMs === facts.mtimeMs;
}

function handlerOf(loaded: unknown, path: string): PageHandler {
  if (typeof loaded === 'function') return loaded as PageHandler;
  if (typeof loaded === 'object' && loaded !== null) {
    const named = loaded as { default?: unknown; handler?: unknown };
    if (typeof named.default === 'function') return named.default as PageHandler;
    if (typeof named.handler === 'function') return named.handler as PageHandler;
  }
  throw new LoncapadError('LC_ERR_CONFIG', `${path}: exports no handler function (module.exports, default or handler)`);
}
