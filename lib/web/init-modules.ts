/**
 * Operators' extension points (OpenACS's `*-init.tcl` with
 * `ad_register_filter` and `ad_register_proc`): a site package may carry
 * `SITE/packages/<key>/init.js`, a plain CommonJS module (no build step)
 * that exports one function. It is run at start and again on every reload
 * (SIGHUP), and registers the package's filters and handlers through the
 * typed API below.
 *
 *   load all:  for each package directory with an init.js, in key order:
 *     1. require() it afresh (the cached copy is dropped first)
 *     2. call it with a collecting API: nothing is registered yet
 *     3. it returned (or its promise resolved): remove everything the
 *        package registered before, then register what it asked for now
 *     a throw or rejection in 1-2: logged; the package keeps what it had.
 *   Packages whose init.js is gone lose their registrations.
 *
 * So a reload replaces a package's registrations and never duplicates them,
 * and a broken edit does not take down what worked. Filters of a reloaded
 * package run after those registered before it (registration order).
 *
 * require() reads the file synchronously: this runs at start and on reload
 * only, never on the request path. Modules an init module requires itself
 * are not reloaded (as with pages).
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeForLog } from '../errors';
import type { Filter, FilterStage } from './filters';
import type { HandlerOptions } from './handlers';
import type { PageHandler, WebLog } from './request-env';

/** The file a site package's init module lives in. */
export const INIT_MODULE = 'init.js';

/** What an init module's function gets. */
export interface PackageInitApi {
  /** The package's key: its directory name under SITE/packages/. */
  readonly packageKey: string;
  /** The URLs the package is mounted at now, e.g. `['/notes/']`. */
  mountedAt(): string[];
  /** Run `filter` at `stage` on URLs matching `glob` (`*`, `?`). */
  registerFilter(stage: FilterStage, glob: string, filter: Filter): void;
  /** Serve `path` (and, unless `exact`, the URLs below it) with `handler`, instead of the file search. */
  registerHandler(path: string, handler: PageHandler, options?: HandlerOptions): void;
  /** The daemon's log. */
  readonly log: WebLog;
}

export type PackageInit = (api: PackageInitApi) => unknown;

/** Where registrations go: the web server's filter and handler registries. */
export interface Registrar {
  registerFilter(stage: FilterStage, glob: string, filter: Filter): () => void;
  registerHandler(path: string, handler: PageHandler, options?: HandlerOptions): () => void;
  /** Mount URLs of a package. */
  mountsOf(packageKey: string): string[];
}

type Registration = (registrar: Registrar) => () => void;

const PACKAGE_DIR_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class InitModules {
  readonly #siteDir: string;
  readonly #registrar: Registrar;
  readonly #log: WebLog;
  /** Per package: how to take back what it registered. */
  readonly #unregister = new Map<string, Array<() => void>>();

  constructor(siteDir: string, registrar: Registrar, log: WebLog) {
    this.#siteDir = siteDir;
    this.#registrar = registrar;
    this.#log = log;
  }

  /** Run every site package's init module (start, reload). Never throws: failures are logged. */
  async loadAll(): Promise<void> {
    let found: string[];
    try {
      found = await this.#packagesWithInit();
    } catch (err) {
      this.#log('error', `web init: cannot read ${join(this.#siteDir, 'packages')}, keeping every registration: ${(err as Error).message}`);
      return;
    }
    for (const gone of [...this.#unregister.keys()].filter((key) => !found.includes(key))) {
      this.#replace(gone, []);
      this.#log('info', `web init ${gone}: ${INIT_MODULE} removed; its filters and handlers are gone`);
    }
    for (const key of found) await this.#load(key);
  }

  async #load(key: string): Promise<void> {
    const file = join(this.#siteDir, 'packages', key, INIT_MODULE);
    const asked: Registration[] = [];
    try {
      // The cache key is the resolved (real) path, whatever links lead to it.
      const resolved = require.resolve(file);
      delete require.cache[resolved];
      const init = initFunctionOf(require(resolved) as unknown, file);
      await init(this.#collectingApi(key, asked));
    } catch (err) {
      const kept = this.#unregister.has(key) ? 'keeping its earlier registrations' : 'nothing registered';
      this.#log('error', `web init ${key}: ${file} failed, ${kept}: ${describeForLog(err)}`);
      return;
    }
    const registered = this.#replace(key, asked);
    this.#log('info', `web init ${key}: ${registered} of ${asked.length} registration(s) in place`);
  }

  /** Take back `key`'s registrations, then make `asked`; returns how many were made. */
  #replace(key: string, asked: readonly Registration[]): number {
    for (const unregister of this.#unregister.get(key) ?? []) unregister();
    const made: Array<() => void> = [];
    for (const register of asked) {
      try {
        made.push(register(this.#registrar));
      } catch (err) {
        // A path another package (or the daemon) already serves, a bad glob or path.
        this.#log('error', `web init ${key}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (made.length > 0) this.#unregister.set(key, made);
    else this.#unregister.delete(key);
    return made.length;
  }

  #collectingApi(key: string, asked: Registration[]): PackageInitApi {
    return {
      packageKey: key,
      mountedAt: () => this.#registrar.mountsOf(key),
      registerFilter: (stage, glob, filter) => {
        asked.push((r) => r.registerFilter(stage, glob, filter));
      },
      registerHandler: (path, handler, options) => {
        asked.push((r) => r.registerHandler(path, handler, options));
      },
      log: this.#log,
    };
  }

  async #packagesWithInit(): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(join(this.#siteDir, 'packages'), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const keys = entries.filter((e) => e.isDirectory() && PACKAGE_DIR_RE.test(e.name)).map((e) => e.name).sort();
    const present = await Promise.all(
      keys.map((key) => stat(join(this.#siteDir, 'packages', key, INIT_MODULE)).then((s) => s.isFile(), () => false)),
    );
    return keys.filter((_, i) => present[i]);
  }
}

function initFunctionOf(loaded: unknown, file: string): PackageInit {
  if (typeof loaded === 'function') return loaded as PackageInit;
  const named = loaded as { default?: unknown; init?: unknown } | null;
  if (typeof named?.default === 'function') return named.default as PackageInit;
  if (typeof named?.init === 'function') return named.init as PackageInit;
  throw new TypeError(`${file} exports no function (module.exports, default or init)`);
}
