/**
 * The web part as the daemon sees it: built from options, started and
 * stopped, with the site map and the handler/filter registries exposed.
 *
 * Construction is synchronous and touches only SQLite (tables, site map,
 * revoked sessions), so the daemon can mount and grant before `start()`.
 * `start()` reads (or creates) the session key, reads the TLS files if any,
 * runs the site packages' init modules and then listens; after that the
 * request path does no synchronous file I/O except the first require() of
 * each page module. `reload()` (SIGHUP) reads the TLS files again and runs
 * the init modules again.
 */
import { join } from 'node:path';
import { LoncapadError } from '../errors';
import type { Db } from '../store/sqlite';
import { ActiveSessions } from './active-sessions';
import { BodyCache } from './body-cache';
import { FilterRegistry, type Filter, type FilterStage } from './filters';
import { FsCache } from './fs-cache';
import { HandlerRegistry, type HandlerOptions } from './handlers';
import { close, createWebListener, listen, observeResponses, readTlsFiles, type TlsFiles, type WebListener } from './http-server';
import { createRedirectListener } from './https-redirect';
import { InitModules } from './init-modules';
import { LoginFailureLog } from './login-failure-log';
import { LoginGate } from './login-gate';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type LoginThrottleSettings } from './login-throttle';
import { PageLoader } from './page-loader';
import { PageResolver } from './page-resolver';
import { RequestProcessor } from './processor';
import type { PageHandler, ServerInfo, WebAuth, WebLog } from './request-env';
import { setTransportSecurity } from './security-headers';
import type { ServerAbout, StatusReport } from './server-report';
import { loadSessionSecret } from './session-secret';
import { SessionStore } from './session-store';
import { SessionManager } from './sessions';
import { DEFAULT_SESSION_CHECK_TTL_MS, SessionTokens } from './session-tokens';
import { SiteMap } from './site-map';

export interface WebServerOptions {
  /** Address to listen on: the host's own IP. */
  readonly host: string;
  /** TCP port; 0 lets the OS choose (read it back from `WebServer.port`). */
  readonly port: number;
  /** `SPOOL/data.sqlite`, opened with `openDatabase`; the web tables are created in it. */
  readonly db: Db;
  /** Holds the global pageroot `www/` and site packages `packages/<key>/www/`. */
  readonly siteDir: string;
  /** Where the session key file lives (`SPOOL/keys`). */
  readonly keysDir: string;
  /** loncapad's shipped packages (default: `packages/` next to this module). */
  readonly packagesDir?: string;
  readonly auth: WebAuth;
  readonly log: WebLog;
  /** Extensions tried for an abstract URL, in order; `vuh` is always tried last. Default `['page.js', 'html']`. */
  readonly extensionPrecedence?: readonly string[];
  /** List directories that have no index file. Default false. */
  readonly directoryListings?: boolean;
  /** Where anonymous visitors are sent to log in. Default `/login/`. */
  readonly loginUrl?: string;
  /** Milliseconds within which a session counts as active for `activeSessions()`. Default 600,000 (10 min). */
  readonly activeSessionWindowMs?: number;
  /** Milliseconds a file lookup (stat, realpath, URL → file) is reused; 0 turns caching off. Default 1,000. */
  readonly fileCacheTtlMs?: number;
  /** Failed-login limits (login-throttle.ts); each default as in DEFAULT_LOGIN_THROTTLE. */
  readonly loginThrottle?: Partial<LoginThrottleSettings>;
  /**
   * Milliseconds a user's auth token, as her home server answered it, is
   * trusted before a request asks again; so a password change made through
   * another server ends her sessions here at most this late. 0: ask on every
   * request. Default 5,000.
   */
  readonly sessionCheckTtlMs?: number;
  /** Speak HTTPS with this certificate and key (PEM files, read again by `reload()`). Default: plain HTTP. */
  readonly tls?: TlsFiles;
  /** With `tls`: a plain-HTTP port that redirects every request to HTTPS. 0 or absent: none. */
  readonly httpRedirectPort?: number;
  /** Who this server is and the domains of its network (front and login pages). */
  readonly about?: () => ServerAbout;
  /** The daemon's part of the status page. */
  readonly statusReport?: () => StatusReport;
  /** Told of every response and every failed login (the daemon's metrics). */
  readonly observer?: WebObserver;
}

/** What the web part reports as it serves, after the fact; kept to counting. */
export interface WebObserver {
  /** A response went out with this status code. */
  responded(status: number): void;
  /** A login failed: wrong password, unknown user, malformed name, or refused by the throttle. */
  loginFailed(): void;
}

export const DEFAULT_EXTENSION_PRECEDENCE: readonly string[] = ['page.js', 'html'];
export const DEFAULT_LOGIN_URL = '/login/';
export const DEFAULT_ACTIVE_SESSION_WINDOW_MS = 10 * 60_000;
export const DEFAULT_FILE_CACHE_TTL_MS = 1_000;

export class WebServer {
  readonly siteMap: SiteMap;
  readonly #options: WebServerOptions;
  readonly #extensions: readonly string[];
  readonly #loginUrl: string;
  readonly #filters = new FilterRegistry();
  readonly #handlers = new HandlerRegistry();
  readonly #active: ActiveSessions;
  readonly #sessionStore: SessionStore;
  readonly #inits: InitModules;
  #listener: WebListener | undefined;
  #redirector: WebListener | undefined;
  #processor: RequestProcessor | undefined;
  #sessions: SessionManager | undefined;
  #logins: LoginGate | undefined;
  #port = 0;

  constructor(options: WebServerOptions) {
    this.#options = options;
    this.#extensions = extensionOrder(options.extensionPrecedence ?? DEFAULT_EXTENSION_PRECEDENCE);
    this.#loginUrl = checkedLoginUrl(options.loginUrl ?? DEFAULT_LOGIN_URL);
    this.#active = new ActiveSessions(options.activeSessionWindowMs ?? DEFAULT_ACTIVE_SESSION_WINDOW_MS);
    this.siteMap = new SiteMap(options.db);
    this.#sessionStore = new SessionStore(options.db, Math.floor(Date.now() / 1000));
    this.#inits = new InitModules(
      options.siteDir,
      {
        registerFilter: (stage, glob, filter) => this.registerFilter(stage, glob, filter),
        registerHandler: (path, handler, handlerOptions) => this.registerHandler(path, handler, handlerOptions),
        mountsOf: (key) => this.siteMap.list().filter((n) => n.packageKey === key).map((n) => n.url),
      },
      options.log,
    );
  }

  /** The bound TCP port (0 until started). */
  get port(): number {
    return this.#port;
  }

  /** Requests handled since start. */
  get requestCount(): number {
    return this.#processor?.requestCount ?? 0;
  }

  async start(): Promise<void> {
    if (this.#listener !== undefined) throw new LoncapadError('LC_ERR_ALREADY_RUNNING', 'web server already started');
    const o = this.#options;
    const secret = await loadSessionSecret(o.keysDir);
    const tls = o.tls === undefined ? undefined : await readTlsFiles(o.tls);
    await this.#inits.loadAll();
    const startedAt = Date.now();
    const cacheTtlMs = o.fileCacheTtlMs ?? DEFAULT_FILE_CACHE_TTL_MS;
    const resolver = new PageResolver(
      {
        fs: new FsCache(cacheTtlMs),
        dirs: { siteDir: o.siteDir, packagesDir: o.packagesDir ?? join(__dirname, 'packages') },
        extensions: this.#extensions,
        directoryListings: o.directoryListings ?? false,
      },
      cacheTtlMs,
    );
    this.siteMap.onEdit(() => resolver.clear());
    const tokens = new SessionTokens(
      (user, domain) => o.auth.authToken(user, domain),
      o.sessionCheckTtlMs ?? DEFAULT_SESSION_CHECK_TTL_MS,
      o.log,
    );
    const sessions = new SessionManager(this.#sessionStore, secret, this.#active, tokens, { secure: tls !== undefined });
    const logins = new LoginGate(
      o.auth,
      new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, ...o.loginThrottle }),
      new LoginFailureLog(o.log, undefined, o.observer?.loginFailed),
      o.log,
    );
    const processor = new RequestProcessor({
      siteMap: this.siteMap,
      filters: this.#filters,
      handlers: this.#handlers,
      pages: new PageLoader(),
      bodies: new BodyCache(),
      resolver,
      services: {
        sessions,
        auth: o.auth,
        logins,
        log: o.log,
        server: this.#serverInfo(startedAt, tls !== undefined),
      },
      loginUrl: this.#loginUrl,
    });
    const listener = createWebListener(
      tls === undefined
        ? (req, res) => processor.handle(req, res)
        : (req, res) => {
            setTransportSecurity(res);
            processor.handle(req, res);
          },
      tls,
    );
    if (o.observer) observeResponses(listener, o.observer.responded);
    const address = await listen(listener, o.host, o.port);
    this.#listener = listener;
    this.#processor = processor;
    this.#sessions = sessions;
    this.#logins = logins;
    this.#port = address.port;
    o.log('info', `web listening on ${address.address}:${address.port}${tls === undefined ? '' : ' (https)'}`);
    if (tls !== undefined && (o.httpRedirectPort ?? 0) > 0) {
      const redirector = createRedirectListener(address.port, o.host);
      const plain = await listen(redirector, o.host, o.httpRedirectPort!);
      this.#redirector = redirector;
      o.log('info', `web redirecting http://${plain.address}:${plain.port} to https`);
    }
  }

  /**
   * SIGHUP: read the TLS certificate and key again and serve them to new
   * connections (the listener stays open), and run the init modules again.
   * Never throws: a bad certificate is logged and the running one kept.
   */
  async reload(): Promise<void> {
    const listener = this.#listener;
    const tlsFiles = this.#options.tls;
    if (listener !== undefined && tlsFiles !== undefined && 'setSecureContext' in listener) {
      try {
        listener.setSecureContext(await readTlsFiles(tlsFiles));
        this.#options.log('info', `web TLS certificate reloaded from ${tlsFiles.certFile}`);
      } catch (err) {
        this.#options.log('error', `web TLS reload failed, keeping the running certificate: ${(err as Error).message}`);
      }
    }
    await this.#inits.loadAll();
  }

  async stop(): Promise<void> {
    const listener = this.#listener;
    if (listener === undefined) return;
    this.#listener = undefined;
    const redirector = this.#redirector;
    this.#redirector = undefined;
    await Promise.all([close(listener), redirector === undefined ? undefined : close(redirector)]);
    this.#logins?.close();
    this.#options.log('info', 'web stopped');
  }

  #serverInfo(startedAt: number, tls: boolean): ServerInfo {
    const o = this.#options;
    // Without providers (a web server of its own, as in tests): what the web server knows itself.
    const about = o.about ?? (() => ({ lonid: '', domain: '', role: '', hostname: o.host, version: '', domains: [] }));
    const report =
      o.statusReport ??
      ((): StatusReport => ({
        host: { ...about(), ip: o.host, port: 0, pid: process.pid, uptimeMs: Date.now() - startedAt },
        peers: [],
        spool: [],
        recentErrors: [],
      }));
    return {
      startedAt,
      activeSessions: () => this.activeSessions(),
      about,
      status: () => ({
        ...report(),
        web: { port: this.#port, tls, activeSessions: this.activeSessions(), requests: this.requestCount },
        generatedAt: new Date().toISOString(),
      }),
    };
  }

  /**
   * The authentication of `userId` (`<user>:<domain>`) changed, through this
   * server: her sessions ask her home server again at their next request
   * instead of trusting what it answered before.
   */
  authChanged(userId: string): void {
    this.#sessions?.authChanged(userId);
  }

  /** Serve `path` (and, unless `exact`, the URLs below it) with `handler`. Returns an unregister function. */
  registerHandler(path: string, handler: PageHandler, options?: HandlerOptions): () => void {
    return this.#handlers.register(path, handler, options);
  }

  /** Run `filter` at `stage` on URLs matching `glob` (`*`, `?`). Returns an unregister function. */
  registerFilter(stage: FilterStage, glob: string, filter: Filter): () => void {
    return this.#filters.register(stage, glob, filter);
  }

  /** Logged-in sessions seen within `activeSessionWindowMs`: the classic `userload`. */
  activeSessions(): number {
    return this.#active.count(Date.now());
  }
}

const EXTENSION_RE = /^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$/;

/** The configured precedence with `vuh` moved to the end (where it always belongs) and duplicates dropped. */
function extensionOrder(configured: readonly string[]): string[] {
  for (const ext of configured) {
    if (!EXTENSION_RE.test(ext)) throw new LoncapadError('LC_ERR_CONFIG', `bad extension in precedence: ${ext}`);
  }
  return [...new Set(configured.filter((ext) => ext !== 'vuh')), 'vuh'];
}

function checkedLoginUrl(url: string): string {
  if (!/^\/[\x21-\x7e]*$/.test(url) || url.includes('?')) {
    throw new LoncapadError('LC_ERR_CONFIG', `bad login URL: ${url}`);
  }
  return url;
}
