/**
 * Step 4 of the request processor: may this session see this URL? Decided
 * on the site node and extra URL alone, before any file is looked up, so a
 * protected URL that does not exist looks exactly like one that does
 * (reference D2).
 *
 *   extra URL `admin` or `admin/…` (any case)  → logged in, and `admin` on the node
 *   any URL of an admin package (`status`)      → the same
 *   anything else                               → `read` on the node
 *
 * `admin` alone counts as an admin URL too, so that `/pkg/admin` cannot serve
 * an `admin.page.js` (or redirect) with read permission only. The status
 * page shows counters and sessions, which are the operators' business: with
 * inheritance on (the default), admins of `/` see it and nobody else does.
 */
import { partiesOf, type Privilege } from './permissions';
import type { Session } from './sessions';
import type { SiteMap } from './site-map';
import type { SiteNode } from './site-node-table';

const ADMIN_PATH_RE = /^admin(\/|$)/i;

/** Packages whose every page is an admin page. */
export const ADMIN_PACKAGES: ReadonlySet<string> = new Set(['status']);

export function requiredPrivilege(extraUrl: string): Privilege {
  return ADMIN_PATH_RE.test(extraUrl) ? 'admin' : 'read';
}

export function isAuthorized(siteMap: SiteMap, node: SiteNode, extraUrl: string, session: Session): boolean {
  const privilege = ADMIN_PACKAGES.has(node.packageKey) ? 'admin' : requiredPrivilege(extraUrl);
  // Even a public admin grant (a mistake OpenACS has seen made) does not open admin pages to anonymous visitors.
  if (privilege === 'admin' && session.userId === null) return false;
  return siteMap.isAllowed(node, partiesOf(session.userId), privilege);
}
