/**
 * Serving a static file: content type, validators (ETag, Last-Modified) with
 * 304 answers, single byte ranges (206/416), and HEAD.
 *
 * Order of checks, as RFC 9110 §13.2.2 puts them for GET/HEAD:
 *   If-None-Match (else If-Modified-Since) → 304
 *   Range (honoured only if If-Range, when present, still matches) → 206 or 416
 * Multi-range requests get the whole file (200), which the RFC allows.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BodyCache } from './body-cache';
import type { FileFacts } from './fs-cache';
import { contentTypeFor } from './mime-types';
import type { FoundFile } from './pageroots';
import { sendStatus } from './responses';
import { FRAME_OPTIONS, FRAME_POLICY, NOSNIFF, REFERRER_POLICY } from './security-headers';

export type ByteRange = { readonly start: number; readonly end: number };

/**
 * `opened`: the file is already open and `file.facts` came from its fstat
 * (a file that may be replaced by rename while it is served: the headers and
 * the bytes then come from one version). The caller closes it.
 */
export function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  file: FoundFile,
  bodies: BodyCache,
  publiclyReadable: boolean,
  opened?: FileHandle,
): void | Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendStatus(res, 405, { Allow: 'GET, HEAD' });
    return;
  }
  const { facts } = file;
  const { etag, lastModified, contentType } = factsOf(file);
  // Always revalidate (cheap with the validators); keep protected files out of shared caches.
  const cacheControl = publiclyReadable ? 'no-cache' : 'private, no-cache';
  if (isNotModified(req, etag, facts.mtimeMs)) {
    res.writeHead(304, {
      ETag: etag,
      'Last-Modified': lastModified,
      'Cache-Control': cacheControl,
      'Content-Security-Policy': FRAME_POLICY,
      'X-Frame-Options': FRAME_OPTIONS,
      'Referrer-Policy': REFERRER_POLICY,
      'X-Content-Type-Options': NOSNIFF,
    });
    res.end();
    return;
  }
  // One object literal with every header: spreading a base object and then adding
  // keys costs microseconds per response in V8, more than the rest of this function.
  const headers: OutgoingHttpHeaders = {
    ETag: etag,
    'Last-Modified': lastModified,
    'Cache-Control': cacheControl,
    'Content-Type': contentType,
    'Accept-Ranges': 'bytes',
    'Content-Length': facts.size,
    'Content-Security-Policy': FRAME_POLICY,
    'X-Frame-Options': FRAME_OPTIONS,
    'Referrer-Policy': REFERRER_POLICY,
    'X-Content-Type-Options': NOSNIFF,
  };
  const rangeHeader = req.headers.range;
  const range =
    rangeHeader !== undefined && ifRangeHolds(firstValue(req.headers['if-range']), etag, facts.mtimeMs)
      ? parseRange(rangeHeader, facts.size)
      : 'ignore';
  if (range === 'unsatisfiable') {
    headers['Content-Range'] = `bytes */${facts.size}`;
    headers['Content-Length'] = 0;
    res.writeHead(416, headers);
    res.end();
    return;
  }
  const span = range === 'ignore' ? { start: 0, end: facts.size - 1 } : range;
  const length = Math.max(0, span.end - span.start + 1);
  if (range !== 'ignore') {
    headers['Content-Range'] = `bytes ${span.start}-${span.end}/${facts.size}`;
    headers['Content-Length'] = length;
  }
  const status = range === 'ignore' ? 200 : 206;
  if (req.method === 'HEAD' || length === 0) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  // A cached body is sent in this turn, without a promise (the common case).
  const cached = bodies.get(file.realPath, facts, opened);
  if (cached instanceof Promise) return cached.then((body) => sendBody(res, status, headers, span, body, file, opened));
  return sendBody(res, status, headers, span, cached, file, opened);
}

/** The bytes of `span`: from the cached `body`, else streamed from the file. */
function sendBody(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  span: ByteRange,
  body: Buffer | undefined,
  file: FoundFile,
  opened: FileHandle | undefined,
): void | Promise<void> {
  if (body === undefined) return streamFile(res, status, headers, span, file, opened);
  res.writeHead(status, headers);
  res.end(span.start === 0 && span.end === body.length - 1 ? body : body.subarray(span.start, span.end + 1));
}

async function streamFile(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  span: ByteRange,
  file: FoundFile,
  opened: FileHandle | undefined,
): Promise<void> {
  const handle = opened ?? (await open(file.realPath, 'r'));
  res.writeHead(status, headers);
  try {
    // The stream owns a handle it opened and closes it when done or on error.
    await pipeline(handle.createReadStream({ start: span.start, end: span.end, autoClose: opened === undefined }), res);
  } catch (err) {
    // A client that hangs up mid-file is normal, not a server error; anything else is.
    if (!res.destroyed || res.writableFinished) throw err;
  }
}

interface HeaderFacts {
  readonly etag: string;
  readonly lastModified: string;
  readonly contentType: string;
}

/**
 * ETag, Last-Modified and Content-Type of one version of a file. Formatting
 * a date is the costliest step of serving a cached file, and FsCache hands
 * out the same facts object for a path until its entry expires, so they are
 * memoised on it (a facts object belongs to one path: its type is the path's).
 */
const headerMemo = new WeakMap<FileFacts, HeaderFacts>();

function factsOf(file: FoundFile): HeaderFacts {
  const { facts } = file;
  let memo = headerMemo.get(facts);
  if (memo === undefined) {
    const etag = `"${facts.ino.toString(36)}-${facts.size.toString(36)}-${Math.floor(facts.mtimeMs).toString(36)}"`;
    memo = { etag, lastModified: new Date(facts.mtimeMs).toUTCString(), contentType: contentTypeFor(file.path) };
    headerMemo.set(facts, memo);
  }
  return memo;
}

function isNotModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
    return ifNoneMatch.split(',').some((tag) => {
      const t = tag.trim();
      return t === '*' || t === etag || t === 'W/' + etag;
    });
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) <= Math.floor(since / 1000);
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** If-Range names the current representation: by strong ETag, or by exact Last-Modified date. */
function ifRangeHolds(ifRange: string | undefined, etag: string, mtimeMs: number): boolean {
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === etag;
  return Date.parse(ifRange) === Math.floor(mtimeMs / 1000) * 1000;
}

/**
 * One `bytes=` range against a file of `size` bytes. Syntax we do not honour
 * (other units, several ranges, garbage) means 'ignore': send the whole file.
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | 'ignore' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return 'ignore';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return 'ignore';
  return start >= size ? 'unsatisfiable' : { start, end };
}
