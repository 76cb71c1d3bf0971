/**
 * Headers every response of the processor carries:
 *
 *   Content-Security-Policy: frame-ancestors 'none'   no other site may frame
 *   X-Frame-Options: DENY                              our pages (clickjacking),
 *                                                      the second for old browsers
 *   Referrer-Policy: same-origin                       URLs (which may name courses
 *                                                      and resources) never leave
 *                                                      with a link
 *   X-Content-Type-Options: nosniff                    a file is what its
 *                                                      Content-Type says
 *
 * The policy names only frame-ancestors: restricting scripts or styles would
 * break the pages sites write themselves, which is theirs to decide.
 * loncapad's own pages (front page, login, status) and the error pages do
 * decide, and send the stricter `ownPagePolicy`: nothing but our stylesheet,
 * our forms, and the one script a page marks with its nonce.
 *
 * With TLS on, every response also carries Strict-Transport-Security
 * (`TRANSPORT_SECURITY`), set by the listener before the processor runs
 * (web-server.ts): once a browser has seen it, it never again sends a
 * password to this host in clear, even if a link says http://.
 *
 * Where they are set: static files (static-file.ts) and the processor's own
 * answers (responses.ts) write them in their one header literal; every other
 * response (pages, handlers, filters, listings) gets them from
 * `setSecurityHeaders` before its code runs, and may replace one. Not one
 * `setHeader` up front for all: any setHeader before writeHead sends node
 * down its slow path, ~1 µs per response, 7 % of serving a static file. So
 * the listener's responses are `DefaultingResponse`s, which hold the
 * headers aside and add them in writeHead unless the code set its own.
 */
import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';

export const FRAME_POLICY = "frame-ancestors 'none'";
export const FRAME_OPTIONS = 'DENY';
export const REFERRER_POLICY = 'same-origin';
export const NOSNIFF = 'nosniff';
/** 180 days; not includeSubDomains: other hosts of the domain are not ours to decide. */
export const TRANSPORT_SECURITY = 'max-age=15552000';

const OWN_PAGE_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The Content-Security-Policy of loncapad's own pages. `scriptNonce`: the
 * one inline script of this response may run, and fetch from this site.
 */
export function ownPagePolicy(scriptNonce?: string): string {
  return scriptNonce === undefined ? OWN_PAGE_POLICY : `${OWN_PAGE_POLICY}; script-src 'nonce-${scriptNonce}'; connect-src 'self'`;
}

/** A header sent unless the response's code sets its own: its name, and the name lower-cased. */
export type DefaultHeader = readonly [name: string, lower: string, value: string];

const defaultHeader = (name: string, value: string): DefaultHeader => [name, name.toLowerCase(), value];

const SECURITY_HEADERS: readonly DefaultHeader[] = [
  defaultHeader('Content-Security-Policy', FRAME_POLICY),
  defaultHeader('X-Frame-Options', FRAME_OPTIONS),
  defaultHeader('Referrer-Policy', REFERRER_POLICY),
  defaultHeader('X-Content-Type-Options', NOSNIFF),
];

/** Dynamic pages: the security headers, and not kept by shared caches (their output depends on the session). */
const PAGE_HEADERS: readonly DefaultHeader[] = [defaultHeader('Cache-Control', 'private, no-cache'), ...SECURITY_HEADERS];

/** The security headers, for a response whose code runs next (and may replace one). */
export function setSecurityHeaders(res: ServerResponse): void {
  setDefaultHeaders(res, SECURITY_HEADERS);
}

/** The security headers and `Cache-Control: private, no-cache`, for a page whose code runs next. */
export function setPageHeaders(res: ServerResponse): void {
  setDefaultHeaders(res, PAGE_HEADERS);
}

/** Forget headers set aside and not yet sent (an error page replaces what the code prepared). */
export function dropDefaultHeaders(res: ServerResponse): void {
  if (res instanceof DefaultingResponse) res.defaultHeaders = undefined;
}

function setDefaultHeaders(res: ServerResponse, headers: readonly DefaultHeader[]): void {
  if (res instanceof DefaultingResponse) res.defaultHeaders = headers;
  else for (const [name, , value] of headers) res.setHeader(name, value);
}

type HeadersArg = OutgoingHttpHeaders | OutgoingHttpHeader[];

/**
 * The web listener's response class: `defaultHeaders` are added when the
 * head is written (by writeHead, or implicitly by the first write), each
 * unless the code set that header itself, with setHeader or in writeHead's
 * headers. Until then they are not in getHeaders(): a page that wants to
 * know must set its own.
 */
export class DefaultingResponse extends ServerResponse {
  defaultHeaders: readonly DefaultHeader[] | undefined;

  override writeHead(statusCode: number, messageOrHeaders?: string | HeadersArg, maybeHeaders?: HeadersArg): this {
    const defaults = this.defaultHeaders;
    if (defaults === undefined) return super.writeHead(statusCode, messageOrHeaders as string, maybeHeaders);
    this.defaultHeaders = undefined;
    const message = typeof messageOrHeaders === 'string' ? messageOrHeaders : undefined;
    const given = typeof messageOrHeaders === 'string' ? maybeHeaders : messageOrHeaders;
    if (given === undefined || Array.isArray(given)) {
      // Rare forms: no headers here (they are all set already), or a raw array.
      const named = Array.isArray(given) ? namesIn(given) : undefined;
      for (const [name, lower, value] of defaults) if (!this.hasHeader(lower) && !named?.has(lower)) this.setHeader(name, value);
      return super.writeHead(statusCode, message, given);
    }
    // The usual form: one object. Node's fast path takes it whole if nothing was set before.
    // A copy (the caller's object may be shared), and a bit per default the code named itself.
    const headers: OutgoingHttpHeaders = {};
    let named = 0;
    for (const name in given) {
      headers[name] = given[name];
      const lower = name.toLowerCase();
      for (let i = 0; i < defaults.length; i++) if (defaults[i]![1] === lower) named |= 1 << i;
    }
    for (let i = 0; i < defaults.length; i++) {
      const [name, lower, value] = defaults[i]!;
      if ((named & (1 << i)) === 0 && !this.hasHeader(lower)) headers[name] = value;
    }
    return super.writeHead(statusCode, message, headers);
  }
}

/** Lower-cased header names of writeHead's array form: flat [name, value, …] or [[name, value], …]. */
function namesIn(headers: OutgoingHttpHeader[]): Set<string> {
  const names = new Set<string>();
  const pairs = Array.isArray(headers[0]);
  for (let i = 0; i < headers.length; i += pairs ? 1 : 2) {
    const entry = headers[i];
    names.add(String(pairs ? (entry as unknown as OutgoingHttpHeader[])[0] : entry).toLowerCase());
  }
  return names;
}

/** HSTS, for every response of an HTTPS listener. */
export function setTransportSecurity(res: ServerResponse): void {
  res.setHeader('Strict-Transport-Security', TRANSPORT_SECURITY);
}
