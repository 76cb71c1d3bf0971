/**
 * The peer table: lonid → PeerLink for every host of the hosts table that is
 * not this machine. `reconcile` applies a new hosts table (SIGHUP): links of
 * removed or changed hosts close, new hosts get links, the rest are untouched.
 */
import { EventEmitter } from 'node:events';
import type { HostEntry, HostsTable } from '../config/hosts';
import { PeerLink, type LinkStatus } from './link';
import type { LinkState } from './link-state';

export type LinkFactory = (peer: HostEntry) => PeerLink;

export declare interface PeerTable {
  on(event: 'state', listener: (peer: string, to: LinkState, from: LinkState) => void): this;
  on(event: 'up', listener: (peer: string) => void): this;
}

export class PeerTable extends EventEmitter {
  readonly #links = new Map<string, PeerLink>();
  readonly #make: LinkFactory;

  constructor(make: LinkFactory) {
    super();
    this.#make = make;
  }

  get(id: string): PeerLink | undefined {
    return this.#links.get(id);
  }

  all(): PeerLink[] {
    return [...this.#links.values()];
  }

  /** Returns the ids added, removed and changed (changed ones get a new link). */
  reconcile(hosts: HostsTable, ownIds: readonly string[]): { added: string[]; removed: string[]; changed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [id, link] of this.#links) {
      const now = hosts.get(id);
      if (!now || ownIds.includes(id)) {
        link.close('host-removed');
        this.#links.delete(id);
        removed.push(id);
      } else if (!sameHost(now, link.peer)) {
        link.close('host-changed');
        this.#links.delete(id);
        changed.push(id);
      }
    }
    for (const h of hosts.all()) {
      if (ownIds.includes(h.id) || this.#links.has(h.id)) continue;
      const link = this.#make(h);
      link.on('state', (to, from) => this.emit('state', h.id, to, from));
      link.on('up', () => this.emit('up', h.id));
      this.#links.set(h.id, link);
      if (!changed.includes(h.id)) added.push(h.id);
    }
    return { added, removed, changed };
  }

  status(): LinkStatus[] {
    return this.all().map((l) => l.status());
  }

  closeAll(): void {
    for (const link of this.#links.values()) link.close('shutdown');
  }
}

function sameHost(a: HostEntry, b: HostEntry): boolean {
  return a.ip === b.ip && a.publicKey === b.publicKey && a.role === b.role && a.domain === b.domain && a.hostname === b.hostname;
}
