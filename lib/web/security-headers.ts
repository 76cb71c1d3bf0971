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
 * down its slow path, ~1 µs per response, 7 % of serving a static file.
 */
import type { ServerResponse } from 'node:http';

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

export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', FRAME_POLICY);
  res.setHeader('X-Frame-Options', FRAME_OPTIONS);
  res.setHeader('Referrer-Policy', REFERRER_POLICY);
  res.setHeader('X-Content-Type-Options', NOSNIFF);
}

/** HSTS, for every response of an HTTPS listener. */
export function setTransportSecurity(res: ServerResponse): void {
  res.setHeader('Strict-Transport-Security', TRANSPORT_SECURITY);
}
