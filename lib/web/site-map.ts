/**
 * The site map as operators change it (`loncapad site mount|unmount|list|grant|revoke`)
 * and as the request processor reads it.
 *
 * SQLite is the record; the node and grant tables in memory are the copy that
 * requests read. Every edit writes SQLite first and then the memory copy, in
 * the same synchronous call, so a running server serves the new map from the
 * next request on and a restart loads the same map.
 *
 * Every edit also moves `generation` on and tells the `onEdit` listeners, so
 * that what was worked out from the old map (the page resolutions) is
 * dropped at once rather than served stale.
 */
import { badArgs, LoncapadError } from '../errors';
import { transactionRunner, type Db, type TransactionRunner } from '../store/sqlite';
import { normalizePath } from './normalize-url';
import { prepareWebTables } from './schema';
import { GrantTable, isAllowed, isParty, isPrivilege, type Privilege } from './permissions';
import { ROOT_URL, SiteNodeTable, type Resolution, type SiteNode } from './site-node-table';

export interface MountOptions {
  /** Serve URLs below the node too (default true). */
  readonly pattern?: boolean;
  /** Inherit privileges from the enclosing node (default true). */
  readonly inherit?: boolean;
  /** Shown to pages as `env.instanceName` (default: the package key). */
  readonly instanceName?: string;
}

export interface SiteNodeListing extends SiteNode {
  readonly grants: readonly { readonly party: string; readonly privilege: Privilege }[];
}

/** A package key names a directory under `packages/`: no '/', no leading '.'. */
const PACKAGE_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

interface NodeRow {
  node_id: number;
  url: string;
  package_key: string;
  instance_name: string;
  pattern: number;
  inherit: number;
}

export class SiteMap {
  readonly #nodes = new SiteNodeTable();
  readonly #grants = new GrantTable();
  readonly #upsertNode;
  readonly #deleteNode;
  readonly #clearRootPackage;
  readonly #insertGrant;
  readonly #deleteGrant;
  readonly #setUrl;
  readonly #transaction: TransactionRunner;
  readonly #editListeners: Array<() => void> = [];
  #generation = 0;

  constructor(db: Db) {
    prepareWebTables(db);
    this.#upsertNode = db.prepare<[string, string, string, number, number], NodeRow>(
      `INSERT INTO site_nodes (url, package_key, instance_name, pattern, inherit) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (url) DO UPDATE SET package_key = excluded.package_key, instance_name = excluded.instance_name,
         pattern = excluded.pattern, inherit = excluded.inherit
       RETURNING *`,
    );
    this.#deleteNode = db.prepare<[number]>('DELETE FROM site_nodes WHERE node_id = ?');
    this.#clearRootPackage = db.prepare<[string], NodeRow>(
      `UPDATE site_nodes SET package_key = '' WHERE url = ? RETURNING *`,
    );
    this.#insertGrant = db.prepare<[number, string, string]>(
      'INSERT OR IGNORE INTO site_grants (node_id, party, privilege) VALUES (?, ?, ?)',
    );
    this.#deleteGrant = db.prepare<[number, string, string]>(
      'DELETE FROM site_grants WHERE node_id = ? AND party = ? AND privilege = ?',
    );
    this.#setUrl = db.prepare<[string, number], NodeRow>('UPDATE site_nodes SET url = ? WHERE node_id = ? RETURNING *');
    this.#transaction = transactionRunner(db);
    for (const row of db.prepare<[], NodeRow>('SELECT * FROM site_nodes').iterate()) this.#nodes.set(nodeFromRow(row));
    const grantRows = db.prepare<[], { node_id: number; party: string; privilege: Privilege }>(
      'SELECT node_id, party, privilege FROM site_grants',
    );
    for (const row of grantRows.iterate()) this.#grants.add(row.node_id, row.party, row.privilege);
    if (this.#nodes.get(ROOT_URL) === undefined) throw new LoncapadError('LC_ERR_STORE', 'site_nodes has no root node');
  }

  /** Moves on with every edit: nodes resolved under one generation belong to that edition of the map. */
  get generation(): number {
    return this.#generation;
  }

  /** Call `listener` after every edit (mount, unmount, grant, revoke). */
  onEdit(listener: () => void): void {
    this.#editListeners.push(listener);
  }

  /** Mount `packageKey` at `url`, or change what an existing node mounts (its grants stay). */
  mount(url: string, packageKey: string, options: MountOptions = {}): SiteNode {
    const nodeUrl = toNodeUrl(url);
    if (!PACKAGE_KEY_RE.test(packageKey)) throw badArgs(`bad package key: ${packageKey}`);
    const instanceName = options.instanceName ?? packageKey;
    const row = this.#upsertNode.get(
      nodeUrl,
      packageKey,
      instanceName,
      options.pattern === false ? 0 : 1,
      options.inherit === false ? 0 : 1,
    );
    if (row === undefined) throw new Error('upsert returned no row');
    const node = nodeFromRow(row);
    this.#nodes.set(node);
    this.#edited();
    return node;
  }

  /**
   * Remove the node at `url` and its grants. The root cannot go away (it
   * always matches); unmounting it leaves it serving the global pageroot only.
   */
  unmount(url: string): boolean {
    const nodeUrl = toNodeUrl(url);
    const node = this.#nodes.get(nodeUrl);
    if (node === undefined) return false;
    if (nodeUrl === ROOT_URL) {
      const row = this.#clearRootPackage.get(ROOT_URL);
      if (row === undefined) throw new Error('root node row missing');
      this.#nodes.set(nodeFromRow(row));
      this.#edited();
      return true;
    }
    this.#deleteNode.run(node.nodeId);
    this.#nodes.delete(nodeUrl);
    this.#grants.dropNode(node.nodeId);
    this.#edited();
    return true;
  }

  /**
   * Move the node at `fromUrl`, and every node below it, to `toUrl`: their
   * ids, packages and grants stay, only the URLs change (OpenACS renames one
   * node and its children follow, because a node's URL is its ancestors'
   * names). One transaction; then the memory copy, and one edit. Returns the
   * nodes moved, with their new URLs.
   */
  move(fromUrl: string, toUrl: string): SiteNode[] {
    const from = toNodeUrl(fromUrl);
    const to = toNodeUrl(toUrl);
    if (from === ROOT_URL || to === ROOT_URL) throw badArgs('the root node / cannot be moved, nor anything moved onto it');
    if (this.#nodes.get(from) === undefined) throw badArgs(`no node mounted at ${from}`);
    if (to.startsWith(from)) throw badArgs(`cannot move ${from} into itself (${to})`);
    const moving = [...this.#nodes.values()].filter((n) => n.url.startsWith(from));
    for (const node of moving) {
      const target = to + node.url.slice(from.length);
      if (this.#nodes.get(target) !== undefined && !target.startsWith(from)) throw badArgs(`a node is already mounted at ${target}`);
    }
    const moved = this.#transaction(() => {
      // Two passes, because a moved node may take the URL another one is leaving
      // (/a/b/ → /a/ with a child /a/b/b/) and url is UNIQUE row by row.
      for (const node of moving) this.#setUrl.get(`moving:${node.nodeId}`, node.nodeId);
      return moving.map((node) => nodeFromRow(this.#setUrl.get(to + node.url.slice(from.length), node.nodeId)!));
    });
    for (const node of moving) this.#nodes.delete(node.url);
    for (const node of moved) this.#nodes.set(node);
    this.#edited();
    return moved;
  }

  list(): SiteNodeListing[] {
    return [...this.#nodes.values()]
      .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))
      .map((node) => ({ ...node, grants: this.#grants.list(node.nodeId) }));
  }

  grant(url: string, party: string, privilege: string): void {
    const { node, priv } = this.#grantArgs(url, party, privilege);
    this.#insertGrant.run(node.nodeId, party, priv);
    this.#grants.add(node.nodeId, party, priv);
    this.#edited();
  }

  /** Returns whether the grant existed. */
  revoke(url: string, party: string, privilege: string): boolean {
    const { node, priv } = this.#grantArgs(url, party, privilege);
    const removed = this.#deleteGrant.run(node.nodeId, party, priv).changes > 0;
    this.#grants.remove(node.nodeId, party, priv);
    this.#edited();
    return removed;
  }

  /** The node serving a normalised request URL (see SiteNodeTable.resolve). */
  resolve(url: string): Resolution {
    return this.#nodes.resolve(url);
  }

  isAllowed(node: SiteNode, parties: readonly string[], privilege: Privilege): boolean {
    return isAllowed(this.#nodes, this.#grants, node, parties, privilege);
  }

  #edited(): void {
    this.#generation++;
    for (const listener of this.#editListeners) listener();
  }

  #grantArgs(url: string, party: string, privilege: string): { node: SiteNode; priv: Privilege } {
    const nodeUrl = toNodeUrl(url);
    const node = this.#nodes.get(nodeUrl);
    if (node === undefined) throw badArgs(`no node mounted at ${nodeUrl}`);
    if (!isParty(party)) throw badArgs(`bad party: ${party} (public, registered or <user>:<domain>)`);
    if (!isPrivilege(privilege)) throw badArgs(`bad privilege: ${privilege} (read or admin)`);
    return { node, priv: privilege };
  }
}

/** Mount URLs follow the request rules and always name a directory. */
export function toNodeUrl(url: string): string {
  const path = url.startsWith('/') && !url.includes('?') ? normalizePath(url) : undefined;
  if (path === undefined || path.urlv.some((s) => s.startsWith('.'))) throw badArgs(`bad site URL: ${url}`);
  return path.url.endsWith('/') ? path.url : path.url + '/';
}

function nodeFromRow(row: NodeRow): SiteNode {
  return {
    nodeId: row.node_id,
    url: row.url,
    packageKey: row.package_key,
    instanceName: row.instance_name,
    pattern: row.pattern === 1,
    inherit: row.inherit === 1,
  };
}
