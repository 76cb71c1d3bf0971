/**
 * The request processor: one HTTP request from raw target to response.
 * Stages, in order (issue 4 §2; each stage's rules live in the named module):
 *
 *   1. normalise the target: 414, 400, 404 for dot segments   normalize-url.ts
 *      then the method: anything but GET, HEAD, POST → 405
 *   2. site-map lookup; a mount URL without its '/' → 302     site-node-table.ts
 *   3. session from the signed cookie (bad → anonymous),      sessions.ts
 *      still standing at the user's home server                session-tokens.ts
 *   4. authorisation on the node, before any file lookup:     authorize.ts
 *      anonymous (not XHR) → 302 to login, else → 403
 *   5. preauth and postauth filters, then a registered        filters.ts, handlers.ts
 *      handler (longest path) instead of the file search
 *   6. concrete file search over the pageroots                file-search.ts
 *      (a directory without '/' → 302), then a listing if on
 *   7. `.vuh` search over the URL's prefixes                  vuh-search.ts
 *   8. 404; a handler that throws → 500 (stack for admins only, always logged),
 *      or 503 when what failed was another server (LC_ERR_PEER_DOWN, LC_ERR_TIMEOUT)
 *   then trace filters, once the response is done.
 * Every response carries the security headers (security-headers.ts says where they are set).
 *
 * Logs name the normalised path only: query strings may carry secrets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeForLog, isUnreachable, LoncapadError } from '../errors';
import { isAuthorized } from './authorize';
import type { BodyCache } from './body-cache';
import { sendListing } from './directory-listing';
import { isFilterResult, type Filter, type FilterRegistry, type FilterStage } from './filters';
import type { HandlerRegistry } from './handlers';
import { encodePath, normalizeTarget, withQuery } from './normalize-url';
import { pageKindOf, type PageLoader } from './page-loader';
import type { PageResolver } from './page-resolver';
import type { FoundFile } from './pageroots';
import { partiesOf } from './permissions';
import { RequestEnvironment, type EnvServices, type HttpMethod } from './request-env';
import { sendRedirect, sendStatus } from './responses';
import { loginRedirect } from './return-url';
import { dropDefaultHeaders, setPageHeaders, setSecurityHeaders } from './security-headers';
import { ANONYMOUS } from './sessions';
import type { SiteMap } from './site-map';
import type { SiteNode } from './site-node-table';
import { serveStatic } from './static-file';

export interface ProcessorParts {
  readonly siteMap: SiteMap;
  readonly filters: FilterRegistry;
  readonly handlers: HandlerRegistry;
  readonly pages: PageLoader;
  readonly bodies: BodyCache;
  readonly resolver: PageResolver;
  readonly services: EnvServices;
  /** Where anonymous visitors are sent to log in. */
  readonly loginUrl: string;
}

/** How far a request got, for the error path. */
interface Progress {
  url: string;
  env?: RequestEnvironment;
  node?: SiteNode;
}

const ALLOW_HEADER = 'GET, HEAD, POST';

export class RequestProcessor {
  readonly #parts: ProcessorParts;
  #requestCount = 0;

  constructor(parts: ProcessorParts) {
    this.#parts = parts;
  }

  get requestCount(): number {
    return this.#requestCount;
  }

  /** The node:http 'request' listener. Never throws: failures become 500s. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    void this.#process(req, res);
  }

  /** Never rejects: whatever a stage throws is answered by #fail (one promise per request, not two). */
  async #process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const progress: Progress = { url: '(unparsed)' };
    try {
      const { siteMap, services } = this.#parts;
      const startTime = Date.now();
      const requestCount = ++this.#requestCount;

      const target = normalizeTarget(req.url ?? '');
      if (target.kind === 'rejected') return sendStatus(res, target.status);
      progress.url = target.url;
      const method = req.method;
      if (!isAllowedMethod(method)) return sendStatus(res, 405, { Allow: ALLOW_HEADER });

      const resolution = siteMap.resolve(target.url);
      // The map this node came from: page resolutions are cached per node and map edition.
      const siteGeneration = siteMap.generation;
      if (resolution.kind === 'redirect') {
        return sendRedirect(res, withQuery(encodePath(resolution.node.url), target.query));
      }
      const { node, extraUrl } = resolution;

      // Each stage below answers without a promise when it can (no cookie, a cached page, no
      // filters), and is awaited only when it did not: an await costs a microtask per request.
      const read = services.sessions.read(req.headers.cookie, startTime);
      const { session, setCookie } = read instanceof Promise ? await read : read;
      if (setCookie !== undefined) res.setHeader('Set-Cookie', setCookie);

      const xhr = req.headers['x-requested-with'] === 'XMLHttpRequest';
      if (!isAuthorized(siteMap, node, extraUrl, session)) {
        if (session.userId === null && !xhr) {
          return sendRedirect(res, loginRedirect(this.#parts.loginUrl, target.url, target.query));
        }
        return sendStatus(res, 403);
      }

      const env = new RequestEnvironment(
        { method, target, requestCount, startTime, node, extraUrl, session, xhr, clientAddress: req.socket.remoteAddress ?? '' },
        services,
      );
      progress.env = env;
      progress.node = node;
      this.#armTraceFilters(req, res, env);
      const preauth = this.#runFilters('preauth', req, res, env);
      if (preauth !== 'continue' && (await preauth) === 'return') return;
      const postauth = this.#runFilters('postauth', req, res, env);
      if (postauth !== 'continue' && (await postauth) === 'return') return;

      const registered = this.#parts.handlers.match(target.url);
      if (registered !== undefined) {
        setSecurityHeaders(res);
        env.target('', registered.pathInfo);
        await registered.handler(req, res, env);
        return;
      }

      const resolving = this.#parts.resolver.resolve(node, extraUrl, siteGeneration);
      const page = resolving instanceof Promise ? await resolving : resolving;
      switch (page.kind) {
        case 'redirect':
          return sendRedirect(res, withQuery(encodePath(target.url + '/'), target.query));
        case 'listing':
          setSecurityHeaders(res);
          // Awaited here, inside the try: a returned promise's failure would escape #fail.
          return await sendListing(res, page.dir, target.url);
        case 'notfound':
          return sendStatus(res, 404);
        case 'file': {
          const serving = this.#serveFile(req, res, env, node, page.file, page.pathInfo);
          // A page's code may answer with any thenable; a static file or a plain page with none.
          if (isThenable(serving)) await serving;
          return;
        }
      }
    } catch (err) {
      this.#fail(err, res, progress);
    }
  }

  /** A promise only when something is still to come (a file streamed, an async page). */
  #serveFile(
    req: IncomingMessage,
    res: ServerResponse,
    env: RequestEnvironment,
    node: SiteNode,
    file: FoundFile,
    pathInfo: string,
  ): unknown {
    const kind = pageKindOf(file.path);
    if (kind === 'static') {
      // An anonymous request got this far only because the URL is public.
      const isPublic = env.userId === null || isAuthorized(this.#parts.siteMap, node, env.extraUrl, ANONYMOUS);
      return serveStatic(req, res, file, this.#parts.bodies, isPublic);
    }
    env.target(file.path, pathInfo);
    const handler = this.#parts.pages.load(file);
    // Dynamic output depends on the session; a page may still choose otherwise.
    setPageHeaders(res);
    return handler(req, res, env);
  }

  /** 'continue' at once when no filter matches (no promise); else the filters run in order. */
  #runFilters(
    stage: FilterStage,
    req: IncomingMessage,
    res: ServerResponse,
    env: RequestEnvironment,
  ): 'continue' | Promise<'continue' | 'return'> {
    const filters = this.#parts.filters.matching(stage, env.url);
    if (filters.length === 0) return 'continue';
    // A filter may answer the request itself.
    setSecurityHeaders(res);
    return this.#runMatchedFilters(stage, filters, req, res, env);
  }

  async #runMatchedFilters(
    stage: FilterStage,
    filters: readonly Filter[],
    req: IncomingMessage,
    res: ServerResponse,
    env: RequestEnvironment,
  ): Promise<'continue' | 'return'> {
    for (const filter of filters) {
      const result: unknown = await filter(req, res, env);
      if (!isFilterResult(result)) {
        throw new LoncapadError('LC_ERR_CONFIG', `${stage} filter returned ${String(result)}`);
      }
      if (result === 'break') break;
      if (result === 'return') {
        if (!res.headersSent) throw new LoncapadError('LC_ERR_CONFIG', `${stage} filter returned 'return' without answering`);
        return 'return';
      }
    }
    return 'continue';
  }

  #armTraceFilters(req: IncomingMessage, res: ServerResponse, env: RequestEnvironment): void {
    const filters = this.#parts.filters.matching('trace', env.url);
    if (filters.length === 0) return;
    res.once('close', () => {
      void (async () => {
        for (const filter of filters) {
          try {
            await filter(req, res, env);
          } catch (err) {
            // The response is gone: a trace filter's failure can only be logged.
            this.#parts.services.log('error', `web trace filter on ${env.url}: ${describeForLog(err)}`);
          }
        }
      })();
    });
  }

  #fail(err: unknown, res: ServerResponse, progress: Progress): void {
    const { log } = this.#parts.services;
    const unavailable = isUnreachable(err);
    if (unavailable) log('warn', `web ${progress.url}: unavailable: ${err.message}`);
    else log('error', `web ${progress.url}: ${describeForLog(err)}`);
    if (res.headersSent) {
      // Part of a response is out; the only honest signal left is to cut the connection.
      res.destroy();
      return;
    }
    for (const name of res.getHeaderNames()) if (!KEPT_ON_FAILURE.has(name)) res.removeHeader(name);
    dropDefaultHeaders(res);
    if (unavailable) return sendStatus(res, 503, { 'Retry-After': String(RETRY_AFTER_UNAVAILABLE_S) });
    const { env, node } = progress;
    const isAdmin =
      env !== undefined && node !== undefined && env.userId !== null &&
      this.#parts.siteMap.isAllowed(node, partiesOf(env.userId), 'admin');
    const stack = err instanceof Error ? (err.stack ?? String(err)) : String(err);
    sendStatus(res, 500, {}, isAdmin ? stack : undefined);
  }
}

/** What a 503 asks a client to wait, s: about the time a returning peer takes to be found. */
const RETRY_AFTER_UNAVAILABLE_S = 30;
/** Headers a page may have set that the error page keeps: a new session cookie, and HSTS. */
const KEPT_ON_FAILURE: ReadonlySet<string> = new Set(['set-cookie', 'strict-transport-security']);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function isAllowedMethod(method: string | undefined): method is HttpMethod {
  return method === 'GET' || method === 'HEAD' || method === 'POST';
}
