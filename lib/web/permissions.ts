/**
 * Who may do what on a site node (issue 4 §2.4, reference §7.4, simplified):
 *
 * - parties: `public` (everyone, logged in or not), `registered` (anyone
 *   logged in), and one user as `<user>:<domain>`;
 * - privileges: `read` and `admin`, where admin implies read;
 * - a grant on a node also holds below it: a node without a grant of its own
 *   asks its enclosing node, unless its `inherit` flag is off. There is no
 *   site-wide exception: a non-inheriting node is private even to admins of `/`.
 */
import type { SiteNode, SiteNodeTable } from './site-node-table';

export type Privilege = 'read' | 'admin';
export const PRIVILEGES: readonly Privilege[] = ['read', 'admin'];

export const PUBLIC_PARTY = 'public';
export const REGISTERED_PARTY = 'registered';

/** User and domain names as the user store accepts them (classic lond's sanitised words). */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;

/** The party naming one user, or undefined if either name is not a valid name. */
export function userParty(user: string, domain: string): string | undefined {
  return NAME_RE.test(user) && NAME_RE.test(domain) ? `${user}:${domain}` : undefined;
}

/** `<user>:<domain>` → its two names (the inverse of `userParty`; names carry no ':'). */
export function splitUserId(userId: string): { readonly user: string; readonly domain: string } {
  const colon = userId.indexOf(':');
  return { user: userId.slice(0, colon), domain: userId.slice(colon + 1) };
}

export function isParty(party: string): boolean {
  if (party === PUBLIC_PARTY || party === REGISTERED_PARTY) return true;
  const { user, domain } = splitUserId(party);
  return party.includes(':') && userParty(user, domain) !== undefined;
}

export function isPrivilege(value: string): value is Privilege {
  return value === 'read' || value === 'admin';
}

/** The parties a request acts as: `userId` is `<user>:<domain>` or null for anonymous. */
export function partiesOf(userId: string | null): readonly string[] {
  return userId === null ? [PUBLIC_PARTY] : [PUBLIC_PARTY, REGISTERED_PARTY, userId];
}

/** Grants per node id: party → privileges. */
export class GrantTable {
  readonly #byNode = new Map<number, Map<string, Set<Privilege>>>();

  add(nodeId: number, party: string, privilege: Privilege): void {
    let parties = this.#byNode.get(nodeId);
    if (parties === undefined) this.#byNode.set(nodeId, (parties = new Map()));
    let privileges = parties.get(party);
    if (privileges === undefined) parties.set(party, (privileges = new Set()));
    privileges.add(privilege);
  }

  remove(nodeId: number, party: string, privilege: Privilege): void {
    const parties = this.#byNode.get(nodeId);
    const privileges = parties?.get(party);
    if (parties === undefined || privileges === undefined) return;
    privileges.delete(privilege);
    if (privileges.size === 0) parties.delete(party);
    if (parties.size === 0) this.#byNode.delete(nodeId);
  }

  dropNode(nodeId: number): void {
    this.#byNode.delete(nodeId);
  }

  list(nodeId: number): { party: string; privilege: Privilege }[] {
    const out: { party: string; privilege: Privilege }[] = [];
    for (const [party, privileges] of this.#byNode.get(nodeId) ?? []) {
      for (const privilege of PRIVILEGES) if (privileges.has(privilege)) out.push({ party, privilege });
    }
    return out;
  }

  /** Whether one of `parties` holds `wanted` (or admin) directly on this node. */
  grantsHere(nodeId: number, parties: readonly string[], wanted: Privilege): boolean {
    const granted = this.#byNode.get(nodeId);
    if (granted === undefined) return false;
    for (const party of parties) {
      const privileges = granted.get(party);
      if (privileges !== undefined && (privileges.has(wanted) || privileges.has('admin'))) return true;
    }
    return false;
  }
}

/** Walk from `node` up through inheriting nodes until a grant is found. */
export function isAllowed(
  nodes: SiteNodeTable,
  grants: GrantTable,
  node: SiteNode,
  parties: readonly string[],
  wanted: Privilege,
): boolean {
  for (let current: SiteNode | undefined = node; current !== undefined; current = nodes.enclosing(current)) {
    if (grants.grantsHere(current.nodeId, parties, wanted)) return true;
    if (!current.inherit) return false;
  }
  return false;
}
