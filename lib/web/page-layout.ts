/**
 * The look of loncapad's own pages (front page, login, status) and of the
 * processor's error pages: one HTML shell and one small stylesheet.
 *
 * The stylesheet (and the icon) are static files of the `login` package: that package does
 * not inherit and carries its own public grant, so the file stays readable
 * when an operator closes the rest of the site (`site revoke / public read`)
 * and the login and error pages keep their look.
 *
 * Every page sent here carries the stricter `ownPagePolicy` (our stylesheet,
 * our forms, at most one inline script with this response's nonce) and the
 * other security headers in its one header literal.
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { escapeHtml } from './html';
import { FRAME_OPTIONS, NOSNIFF, ownPagePolicy, REFERRER_POLICY } from './security-headers';

/** Where the login package serves the stylesheet and the icon (the site map mounts it at /login/). */
export const STYLESHEET_URL = '/login/loncapad.css';
const ICON_URL = '/login/favicon.svg';

export interface PageContent {
  /** Plain text: escaped here. */
  readonly title: string;
  /** HTML, with every untrusted part already escaped (`escapeHtml`). */
  readonly main: string;
  /** One inline script (our own code, never data) and the nonce that lets it run. */
  readonly script?: { readonly nonce: string; readonly code: string };
}

export function renderPage(page: PageContent): string {
  const script = page.script === undefined ? '' : `<script nonce="${page.script.nonce}">\n${page.script.code}\n</script>\n`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · loncapad</title>
<link rel="stylesheet" href="${STYLESHEET_URL}">
<link rel="icon" href="${ICON_URL}" type="image/svg+xml">
</head><body>
<header class="bar"><a class="brand" href="/">loncapad</a></header>
<main>
${page.main}
</main>
${script}</body></html>
`;
}

/** Render `page` and send it with `status`; `headers` are added (and may replace Cache-Control). */
export function sendPage(res: ServerResponse, status: number, page: PageContent, headers: OutgoingHttpHeaders = {}): void {
  const html = renderPage(page);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Content-Security-Policy': ownPagePolicy(page.script?.nonce),
    'X-Frame-Options': FRAME_OPTIONS,
    'Referrer-Policy': REFERRER_POLICY,
    'X-Content-Type-Options': NOSNIFF,
  });
  res.end(html);
}

/** A fresh nonce for one response's inline script (128 bits, base64). */
export function scriptNonce(): string {
  return randomBytes(16).toString('base64');
}
