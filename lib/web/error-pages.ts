/**
 * The processor's error pages: what went wrong, in words a student or an
 * instructor understands, and what she can do about it; in the look of the
 * other pages (page-layout.ts). They never echo the URL or the query (no
 * reflection, no secrets); a 500's stack reaches admins only (processor.ts
 * decides, and hands it over as `detail`).
 */
import { STATUS_CODES } from 'node:http';
import { escapeHtml } from './html';
import type { PageContent } from './page-layout';

interface ErrorText {
  readonly title: string;
  readonly explain: string;
}

const ERROR_TEXTS: Readonly<Record<number, ErrorText>> = {
  400: { title: 'This address is malformed', explain: 'The address of this page has characters a web address may not carry. Check the link, or type the address again.' },
  403: {
    title: 'This page is not open to you',
    explain: 'You may be logged in as someone this page is not meant for, or it may be for the people who run this server only. If you need it, ask them for access.',
  },
  404: { title: 'There is no page here', explain: 'Nothing lives at this address. The link may be mistyped, or the page may have moved or been taken down.' },
  405: { title: 'This page cannot be used that way', explain: 'Your browser asked this address for something it does not offer. Go back and follow a link instead.' },
  413: { title: 'What you sent is too large', explain: 'This server accepts less than that at this address. Send something smaller.' },
  414: { title: 'This address is too long', explain: 'This server reads addresses of up to 2,000 characters. Check the link.' },
  415: { title: 'This server cannot read what was sent', explain: 'The form arrived in a format this page does not take. Send it from the page’s own form.' },
  500: {
    title: 'Something went wrong on this server',
    explain: 'This page failed while it was being prepared. The failure has been logged for the people who run this server. Please try again later.',
  },
  503: {
    title: 'Not available just now',
    explain: 'A server this page needs cannot be reached just now. Nothing you did caused this; please try again in a minute.',
  },
};

/** The page for an error `status`; `detail` (plain text, e.g. a stack for admins) is shown preformatted. */
export function errorPage(status: number, detail?: string): PageContent {
  const text = ERROR_TEXTS[status] ?? { title: STATUS_CODES[status] ?? 'Error', explain: 'This request could not be answered.' };
  const more = detail === undefined ? '' : `\n<pre class="detail">${escapeHtml(detail)}</pre>`;
  return {
    title: text.title,
    main:
      `<h1>${escapeHtml(text.title)}</h1>\n<p class="status">${status} ${escapeHtml(STATUS_CODES[status] ?? '')}</p>\n` +
      `<p>${escapeHtml(text.explain)}</p>\n<p><a href="/">Go to the front page</a></p>${more}`,
  };
}
