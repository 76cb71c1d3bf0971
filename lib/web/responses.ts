/**
 * The processor's own short answers: error pages and redirects. Bodies never
 * echo the URL or query (no reflection, no secrets).
 */
import { STATUS_CODES, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { errorPage } from './error-pages';
import { sendPage } from './page-layout';
import { FRAME_OPTIONS, FRAME_POLICY, NOSNIFF, REFERRER_POLICY } from './security-headers';

/** An error page for `status` (error-pages.ts); `detail` is shown preformatted (a 500's stack, for admins). */
export function sendStatus(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}, detail?: string): void {
  sendPage(res, status, errorPage(status, detail), { ...headers, 'Cache-Control': 'no-store' });
}

/** 302 to an already-encoded same-site location. */
export function sendRedirect(res: ServerResponse, location: string): void {
  sendPlain(res, 302, `302 ${STATUS_CODES[302]}\n`, { Location: location });
}

/** A short plain-text answer (redirects), never cached, with every security header. */
export function sendPlain(res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'Content-Security-Policy': FRAME_POLICY,
    'X-Frame-Options': FRAME_OPTIONS,
    'Referrer-Policy': REFERRER_POLICY,
    'X-Content-Type-Options': NOSNIFF,
  });
  res.end(text);
}
