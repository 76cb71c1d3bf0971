/**
 * Step 1 of the request processor: turn the raw request target into the
 * decoded, normalised URL that every later step works on.
 *
 * Rules (issue 4 §2.1, reference model RM-1/RM-1b), checked in this order:
 *   1. a target longer than MAX_TARGET_BYTES          → 414 (checked first: bounded work)
 *   2. not origin-form, bad percent-encoding, a control
 *      character, or a '/' or '\' hidden in a segment  → 400
 *   3. '.' and empty segments dropped; '..' pops one segment, never above '/'
 *   4. a trailing '/' is kept (also after a final '.' or '..', which name a directory)
 *   5. any remaining segment starting with '.'        → 404 (dotfiles, .git/, …)
 *
 * The query string is kept raw (never decoded here, never logged: it may hold secrets).
 */

/** OpenACS MaxUrlLength: longer targets are refused before any decoding. */
export const MAX_TARGET_BYTES = 2000;

export interface NormalizedTarget {
  readonly kind: 'ok';
  /** Decoded path, starting with '/', trailing '/' kept; its segments are `urlSegments(url)`. */
  readonly url: string;
  /** Raw query string without '?', '' when absent. */
  readonly query: string;
}

export interface RejectedTarget {
  readonly kind: 'rejected';
  readonly status: 400 | 404 | 414;
}

export type TargetResult = NormalizedTarget | RejectedTarget;

// Control characters (C0 and DEL); C1 controls are checked too since decoded text is Unicode.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const ABSOLUTE_FORM_RE = /^https?:\/\/[^/?#]*/i;

/**
 * A path already in normal form: segments of unreserved characters that do
 * not start with '.', and at most a trailing '/'. Each segment starts at a
 * '/' its class excludes, so the match is linear.
 */
const PLAIN_PATH_RE = /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)*\/?$/;

/**
 * The decoded segments of a normalised URL, without an empty trailing
 * element ('/' → []). A decoded segment never holds a '/' (decodeSegment
 * refuses one), so splitting the URL gives them back. Built only when a page
 * asks (RequestEnvironment.urlv): most requests never do.
 */
export function urlSegments(url: string): string[] {
  const end = url.endsWith('/') ? url.length - 1 : url.length;
  return end <= 0 ? [] : url.slice(1, end).split('/');
}

export function normalizeTarget(rawTarget: string): TargetResult {
  // A UTF-16 unit is at most 3 bytes of UTF-8: a short target needs no count of its bytes.
  if (rawTarget.length * 3 > MAX_TARGET_BYTES && Buffer.byteLength(rawTarget) > MAX_TARGET_BYTES) {
    return { kind: 'rejected', status: 414 };
  }
  // A proxy-style absolute-form target carries the same path after its authority.
  const target = rawTarget.startsWith('/') ? rawTarget : rawTarget.replace(ABSOLUTE_FORM_RE, '');
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (!rawPath.startsWith('/') || CONTROL_RE.test(query)) return { kind: 'rejected', status: 400 };
  // Most targets need none of the rules: no escapes, no empty or dot segments.
  if (PLAIN_PATH_RE.test(rawPath)) return { kind: 'ok', url: rawPath, query };
  const path = normalizePath(rawPath);
  if (path === undefined) return { kind: 'rejected', status: 400 };
  if (path.urlv.some((s) => s.startsWith('.'))) return { kind: 'rejected', status: 404 };
  return { kind: 'ok', url: path.url, query };
}

/**
 * Decode and normalise an origin-form path. Returns undefined for anything that
 * must be refused as a bad request. Exported for the site map, which uses the
 * same rules for mount URLs.
 */
export function normalizePath(rawPath: string): { url: string; urlv: string[] } | undefined {
  const urlv: string[] = [];
  const rawSegments = rawPath.split('/');
  let trailingSlash = false;
  for (let i = 1; i < rawSegments.length; i++) {
    const segment = decodeSegment(rawSegments[i]!);
    if (segment === undefined) return undefined;
    const last = i === rawSegments.length - 1;
    if (segment === '' || segment === '.') {
      if (last) trailingSlash = true;
    } else if (segment === '..') {
      urlv.pop();
      if (last) trailingSlash = true;
    } else {
      urlv.push(segment);
    }
  }
  const url = urlv.length === 0 ? '/' : '/' + urlv.join('/') + (trailingSlash ? '/' : '');
  return { url, urlv };
}

function decodeSegment(raw: string): string | undefined {
  let decoded: string;
  try {
    decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch (err) {
    // URIError: malformed percent-encoding or invalid UTF-8; the client's fault.
    if (err instanceof URIError) return undefined;
    throw err;
  }
  // An encoded '/' or '\' would let one segment act as several on disk.
  if (CONTROL_RE.test(decoded) || decoded.includes('/') || decoded.includes('\\')) return undefined;
  return decoded;
}

/** Percent-encode a decoded URL path for a Location header (ASCII only, '/' kept). */
export function encodePath(url: string): string {
  return url.split('/').map(encodeURIComponent).join('/');
}

/** `url` plus `?query` when there is one: redirects keep the client's query. */
export function withQuery(encodedPath: string, query: string): string {
  return query === '' ? encodedPath : encodedPath + '?' + query;
}
