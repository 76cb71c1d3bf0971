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

export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', FRAME_POLICY);
  res.setHeader('X-Frame-Options', FRAME_OPTIONS);
  res.setHeader('Referrer-Policy', REFERRER_POLICY);
  res.setHeader('X-Content-Type-Options', NOSNIFF);
}
