/**
 * Where login sends a user back to. Only a path on this site is accepted:
 * one leading '/', not '//' or '/\' (which browsers read as another host),
 * printable ASCII only (no header injection). Anything else becomes '/'.
 */
import { encodePath, withQuery } from './normalize-url';

const SAME_SITE_PATH_RE = /^\/(?![/\\])[\x21-\x7e]*$/;

export function safeReturnUrl(value: string | null | undefined): string {
  return value != null && SAME_SITE_PATH_RE.test(value) ? value : '/';
}

/** The login page URL that brings the user back to `url?query` afterwards. */
export function loginRedirect(loginUrl: string, url: string, query: string): string {
  return `${loginUrl}?return_url=${encodeURIComponent(withQuery(encodePath(url), query))}`;
}
