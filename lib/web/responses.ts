/**
 * The processor's own short answers: status pages and redirects. Bodies are
 * plain text and never echo the URL or query (no reflection, no secrets).
 */
import { STATUS_CODES, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { FRAME_OPTIONS, FRAME_POLICY, NOSNIFF, REFERRER_POLICY } from './security-headers';

export function sendStatus(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}, body?: string): void {
  const text = body ?? `${status} ${STATUS_CODES[status] ?? ''}\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
  res.writeHead(status, {
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

/** 302 to an already-encoded same-site location. */
export function sendRedirect(res: ServerResponse, location: string): void {
  sendStatus(res, 302, { Location: location });
}
