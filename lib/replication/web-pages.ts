/**
 * The `res` package's pages (`/res/…`) and the classic `/raw/…` download,
 * registered as handlers so the site map's permissions apply before they run.
 *
 *   GET /res/<dom>/<author>/<path>
 *     a local copy (or the original, on the home) ─▶ served, read recorded
 *     none, and this host is the author's home  ─▶ the current version if
 *       its number was asked for (x.<n>.ext), else 404
 *     none, a .meta ─▶ 404 (it comes with its resource)
 *     none ─▶ replicate (one transfer per URL; others wait for it):
 *       ok ─▶ served   not_found ─▶ 404   rejected ─▶ 403
 *       unavailable ─▶ 503 with Retry-After and a page a person understands
 *       directory ─▶ without '/': 302 to it; with '/': a listing if the site
 *                    lists directories, else 404
 *   GET /raw/res/<dom>/<author>/<path>   (classic callers only)
 *     the caller's address must be the listed IP of a host subscribed to
 *     that resource here, else 403
 *
 * A copy is served from an open file descriptor whose fstat gives the
 * headers, so an update renamed over it mid-request cannot mix versions.
 */
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unescape } from '../client/escape';
import { isWorkFile, parseResourcePath, resourceFile, type ResourcePath } from '../store/resource-files';
import {
  BodyCache,
  encodePath,
  sendListing,
  sendNamesListing,
  sendRedirect,
  sendStatus,
  serveStatic,
  withQuery,
  type PageHandler,
  type RequestEnv,
} from '../web';
import { isMissing } from './files';
import { lookupOnHome } from './home-files';
import type { ResourceHome } from './home';
import type { ReplicaTable } from './replicas';
import type { Replicator } from './replicator';
import type { ReplicationStats } from './stats';

/** What a visitor is told to wait before trying again when the home cannot be reached, s. */
const UNAVAILABLE_RETRY_AFTER_S = 30;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

export interface PagesDeps {
  readonly root: string;
  readonly replicator: Replicator;
  readonly home: ResourceHome;
  readonly replicas: ReplicaTable;
  readonly stats: ReplicationStats;
  readonly isHomeHere: (p: ResourcePath) => boolean;
  /** `ls:<url>` on the author's home, for listings of directories we hold no copy of. */
  readonly listOnHome: (p: ResourcePath) => Promise<string>;
  readonly directoryListings: boolean;
}

/** What a request came to: a response went out (`served`, `answered`), or a directory or nothing is there. */
type Served = 'served' | 'answered' | 'directory' | 'missing';
type Serve = (path: string) => Promise<Served>;

export function resourcePage(d: PagesDeps): PageHandler {
  const bodies = new BodyCache();
  return async (req, res, env) => {
    if (env.method === 'POST') return sendStatus(res, 405, { Allow: 'GET, HEAD' });
    const p = env.url.startsWith('/res/') ? parseResourcePath(env.url) : undefined;
    if (p === undefined) return sendStatus(res, 404);
    const file = resourceFile(d.root, p);
    // An anonymous request got this far, so anyone may read it: shared caches may keep it.
    const serve: Serve = (path) => serveLocal(req, res, path, bodies, env.userId === null);
    let served = await serve(file);
    if (served === 'missing') served = d.isHomeHere(p) ? await serveCurrent(d, p, serve) : await serveReplicated(d, res, p, file, serve);
    if (served === 'served') d.replicas.touch(p.url, Date.now());
    else if (served === 'directory') await sendDirectory(d, res, env, p, file);
    else if (served === 'missing') sendStatus(res, 404);
  };
}

/** On the home: the current version asked for by its number (x.<n>.ext) is the current file. */
async function serveCurrent(d: PagesDeps, p: ResourcePath, serve: Serve): Promise<Served> {
  const found = await lookupOnHome(d.root, p);
  return found.kind === 'file' ? serve(found.file) : found.kind;
}

/** Elsewhere: replicate (one transfer per URL), then serve the copy. */
async function serveReplicated(d: PagesDeps, res: ServerResponse, p: ResourcePath, file: string, serve: Serve): Promise<Served> {
  // A .meta comes with its resource; alone it would be a copy no update ever reaches.
  if (p.rel[p.rel.length - 1]?.endsWith('.meta') === true) return 'missing';
  const outcome = await d.replicator.ensure(p);
  switch (outcome.kind) {
    case 'ok': {
      const served = await serve(file);
      if (served !== 'missing') return served;
      sendUnavailable(res); // dropped again in the instant between install and read
      return 'answered';
    }
    case 'not_found':
      return 'missing';
    case 'directory':
      return 'directory';
    case 'rejected':
      sendStatus(res, 403);
      return 'answered';
    case 'unavailable':
      sendUnavailable(res);
      return 'answered';
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

export function rawPage(d: PagesDeps): PageHandler {
  const bodies = new BodyCache();
  return async (req, res, env) => {
    if (env.method === 'POST') return sendStatus(res, 405, { Allow: 'GET, HEAD' });
    const p = env.url.startsWith('/raw/res/') ? parseResourcePath(env.url) : undefined;
    if (p === undefined || p.rel.length === 0) return sendStatus(res, 404);
    if (!d.home.rawAllowed(p, ipv4Mapped(env.clientAddress))) return sendStatus(res, 403);
    const found = await lookupOnHome(d.root, p);
    const served = found.kind === 'file' ? await serveLocal(req, res, found.file, bodies, false) : 'missing';
    if (served === 'served') d.stats.rawServed++;
    else sendStatus(res, 404);
  };
}

/** Serve the file at `file` if there is one; what was there otherwise. */
async function serveLocal(req: IncomingMessage, res: ServerResponse, file: string, bodies: BodyCache, isPublic: boolean): Promise<Served> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if (isMissing(err)) return 'missing';
    throw err;
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return 'directory';
    if (!st.isFile()) return 'missing';
    const facts = { kind: 'file', size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } as const;
    await serveStatic(req, res, { path: file, realPath: file, facts }, bodies, isPublic, fh);
    return 'served';
  } finally {
    await fh.close();
  }
}

async function sendDirectory(d: PagesDeps, res: ServerResponse, env: RequestEnv, p: ResourcePath, file: string): Promise<void> {
  if (!env.url.endsWith('/')) return sendRedirect(res, withQuery(encodePath(env.url + '/'), env.query));
  if (!d.directoryListings) return sendStatus(res, 404);
  if (d.isHomeHere(p)) return sendListing(res, file, env.url);
  const reply = await d.listOnHome(p);
  if (reply === 'con_lost' || reply.startsWith('error:')) return sendUnavailable(res);
  sendNamesListing(res, namesOfLs(reply), env.url);
}

/** Names of an `ls` reply (`name&<13 stat fields>:…`); directories get a trailing '/'. */
function namesOfLs(reply: string): string[] {
  if (reply === 'empty' || reply === 'no_such_dir' || reply === '') return [];
  return reply
    .split(':')
    .map((entry) => {
      const fields = entry.split('&');
      const name = unescape(fields[0]!);
      return (Number(fields[3]) & S_IFMT) === S_IFDIR ? name + '/' : name;
    })
    .filter((name) => !isWorkFile(name));
}

/** The home could not be reached or the transfer failed (the replicator logged why; a visitor gets no internals). */
function sendUnavailable(res: ServerResponse): void {
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Temporarily unavailable</title></head><body>
<h1>This resource is temporarily unavailable</h1>
<p>It is kept on another server of the network, which cannot be reached just now.
Please try again in a minute.</p>
</body></html>
`;
  res.writeHead(503, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S),
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

/** The hosts table lists IPv4 addresses; a dual-stack socket reports them as `::ffff:a.b.c.d`. */
function ipv4Mapped(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

