/**
 * The replication part as the daemon sees it: dynamic resource replication
 * (home side, subscriber side, the `res` and `/raw` pages) and load
 * balancing at login. It builds its pieces and hands out commands, pages and
 * the login offload; the daemon only wires them.
 *
 *   home.ts          sub / unsub / fetch / publish on the author's home
 *   replicator.ts    first access, update, expiry on a subscriber
 *   transfer-*.ts    the bytes over the peer link, streamed and checked
 *   web-pages.ts     GET /res/… and /raw/…
 *   load-balancer.ts spares and login tokens
 */
import { isAbsolute } from 'node:path';
import { userLoadPercent, loadPercent } from '../commands/core';
import { homeServer, type Transport } from '../client/lonnet';
import type { HostsTable } from '../config';
import { badArgs } from '../errors';
import type { Logger } from '../log';
import { parseResourcePath, type ResourcePath } from '../store/resource-files';
import type { Db } from '../store/sqlite';
import { encodePath, type PageHandler } from '../web';
import { ResourceHome } from './home';
import { LoadBalancer } from './load-balancer';
import { LoginTokens } from './login-tokens';
import { ACCESS_FLUSH_INTERVAL_MS, ReplicaTable } from './replicas';
import { Replicator } from './replicator';
import { prepareReplicationTables } from './schema';
import { NO_SPARES, type Spares } from './spares';
import { ReplicationStats } from './stats';
import { SubscriptionTable } from './subscriptions';
import { FaultHooks } from './test-hooks';
import { TransferServer } from './transfer-server';
import { rawPage, resourcePage } from './web-pages';

/** Copies listed by `res list` at most. */
const MAX_LISTED_COPIES = 10_000;

export interface ReplicationSettings {
  /** Copies not read for this long are dropped when an update comes, ms (classic lonExpire). */
  readonly resourceExpireMs: number;
  /** A host's web address: `{id}`, `{hostname}`, `{ip}`, `{httpPort}` are replaced. */
  readonly hostUrlTemplate: string;
  /** This host's HTTP port, assumed the same on every host (as the peer port is). */
  readonly httpPort: number;
  readonly loadLimit: number;
  readonly userLoadLimit: number;
  /** `res:fault` is accepted (tests only). */
  readonly testHooks: boolean;
}

export interface ReplicationOptions {
  /** `SPOOL/data.sqlite`. */
  readonly db: Db;
  /** The resource space: `SPOOL/res`. */
  readonly root: string;
  readonly log: Logger;
  readonly selfId: () => string;
  readonly hosts: () => HostsTable;
  /** Does `user` of `domain` live here (is this her home server)? */
  readonly livesHere: (domain: string, user: string) => boolean;
  /** The daemon's own router: commands to peers (and to itself). */
  readonly transport: Transport;
  readonly settings: () => ReplicationSettings;
  /** Logged-in sessions seen within the `userload` window. */
  readonly activeSessions: () => number;
  /** Whether the site lists directories. */
  readonly directoryListings: boolean;
}

export class Replication {
  readonly stats = new ReplicationStats();
  readonly replicas: ReplicaTable;
  readonly subscriptions: SubscriptionTable;
  readonly transfers: TransferServer;
  readonly home: ResourceHome;
  readonly replicator: Replicator;
  readonly balancer: LoadBalancer;
  readonly faults = new FaultHooks();
  readonly #o: ReplicationOptions;
  readonly #flushTimer: NodeJS.Timeout;
  #spares: Spares = NO_SPARES;

  constructor(o: ReplicationOptions) {
    this.#o = o;
    prepareReplicationTables(o.db);
    this.replicas = new ReplicaTable(o.db);
    this.subscriptions = new SubscriptionTable(o.db);
    this.transfers = new TransferServer(this.faults);
    const isHomeHere = (p: ResourcePath): boolean => o.livesHere(p.domain, p.author);
    const critical = (peer: string, command: string): Promise<string> => o.transport.critical(peer, command);
    this.home = new ResourceHome({
      root: o.root,
      subscriptions: this.subscriptions,
      transfers: this.transfers,
      isHomeHere,
      ipOf: (host) => o.hosts().get(host)?.ip,
      rawUrl: (p) => `${this.urlOf(o.selfId())}/raw${encodePath(p.url)}`,
      critical,
      log: o.log,
    });
    this.replicator = new Replicator({
      root: o.root,
      selfId: o.selfId,
      replicas: this.replicas,
      stats: this.stats,
      homeOf: (p) => homeServer(o.transport, o.hosts().all(), p.author, p.domain),
      isHomeHere,
      ask: (peer, command) => o.transport.reply(peer, command),
      critical,
      expireMs: () => o.settings().resourceExpireMs,
      log: o.log,
    });
    this.balancer = new LoadBalancer({
      selfId: o.selfId,
      spares: () => this.#spares,
      ownLoad: () => {
        const s = o.settings();
        return Math.max(loadPercent(s.loadLimit), userLoadPercent(o.activeSessions(), s.userLoadLimit));
      },
      transport: o.transport,
      urlOf: (host) => this.urlOf(host),
      tokens: new LoginTokens(),
      log: o.log,
    });
    this.#flushTimer = setInterval(() => this.replicas.flushReads(), ACCESS_FLUSH_INTERVAL_MS);
    this.#flushTimer.unref();
  }

  /** The spare servers (read by the daemon at start and on SIGHUP). */
  setSpares(spares: Spares): void {
    this.#spares = spares;
  }

  /** Handlers for `/res` and `/raw`. */
  pages(): { readonly resource: PageHandler; readonly raw: PageHandler } {
    const deps = {
      root: this.#o.root,
      replicator: this.replicator,
      home: this.home,
      replicas: this.replicas,
      stats: this.stats,
      isHomeHere: (p: ResourcePath) => this.#o.livesHere(p.domain, p.author),
      listOnHome: async (p: ResourcePath) => {
        // A home that cannot be found is answered like one that cannot be reached.
        const home = await homeServer(this.#o.transport, this.#o.hosts().all(), p.author, p.domain).catch(() => 'con_lost');
        return home === 'con_lost' ? home : this.#o.transport.reply(home, `ls:${p.url}`);
      },
      directoryListings: this.#o.directoryListings,
    };
    return { resource: resourcePage(deps), raw: rawPage(deps) };
  }

  /** The web address of a host of the hosts table, without a trailing '/'. */
  urlOf(host: string): string | undefined {
    const h = this.#o.hosts().get(host);
    if (h === undefined) return undefined;
    const s = this.#o.settings();
    const fields: Record<string, string> = { id: h.id, hostname: h.hostname, ip: h.ip, httpPort: String(s.httpPort) };
    return s.hostUrlTemplate.replace(/\{(\w+)\}/g, (all, name: string) => fields[name] ?? all).replace(/\/+$/, '');
  }

  /** `res:<op>:<JSON array>` from a local client (`loncapad res …`). */
  async operate(op: string, args: readonly string[]): Promise<unknown> {
    switch (op) {
      case 'publish': {
        const [src, url, title] = args;
        if (src === undefined || !isAbsolute(src)) throw badArgs('publish needs the absolute path of the new version');
        const p = this.#homeResource(url, 'publish');
        return this.home.publish({ src, resource: p, title: title === '' ? undefined : title });
      }
      case 'subscribers': {
        const p = this.#homeResource(args[0], 'ask');
        return {
          url: p.url,
          subscribers: this.home.subscribers(p).map((s) => ({ host: s.host, ip: s.ip, since: new Date(s.since).toISOString() })),
        };
      }
      case 'list':
        this.replicas.flushReads();
        return this.replicas.page('', MAX_LISTED_COPIES).map((r) => ({
          ...r,
          fetchedAt: new Date(r.fetchedAt).toISOString(),
          lastAccess: new Date(r.lastAccess).toISOString(),
        }));
      case 'stats':
        return this.stats.toJSON();
      case 'fault':
        if (!this.#o.settings().testHooks) throw badArgs('test hooks are off (start the daemon with --test-hooks)');
        this.faults.set(args[0] ?? '', this.#resource(args[1]).url);
        return 'ok';
      default:
        throw badArgs(`unknown res operation ${op.slice(0, 40)} (publish, subscribers, list, stats)`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#flushTimer);
    this.faults.releaseAll();
    await this.replicator.settled();
    while (this.replicas.unflushedReads > 0) this.replicas.flushReads();
    await this.transfers.stop();
  }

  #resource(url: string | undefined): ResourcePath {
    const p = url === undefined ? undefined : parseResourcePath(url);
    if (p === undefined || p.rel.length === 0) throw badArgs('expected a resource URL: /res/<domain>/<author>/<path>');
    return p;
  }

  /** A resource of an author who lives here; anything else is refused with the reason. */
  #homeResource(url: string | undefined, verb: string): ResourcePath {
    const p = this.#resource(url);
    if (!this.#o.livesHere(p.domain, p.author)) {
      throw badArgs(`${this.#o.selfId()} is not the home server of ${p.author}:${p.domain}; ${verb} on the author's home server`);
    }
    return p;
  }
}
