/**
 * The home side of dynamic replication (classic D3b–D5c, U1, U3c–U3d): the
 * resources this host is the home of, who subscribed to them, and the
 * transfers of their bytes.
 *
 *   sub:<url>      not our author's ─▶ rejected; missing ─▶ not_found;
 *                  a directory ─▶ directory; a file ─▶ the subscriber is
 *                  recorded (host, its listed IP, now; replacing its older
 *                  row) ─▶ the classic `/raw/` URL
 *   unsub:<url>    ok | not_subscribed (rejected when not ours)
 *   fetch:<url>    subscribers only: open a transfer (transfer-server.ts)
 *   publish        install a version, then critical update:<url> to each
 *                  subscriber (publish.ts)
 */
import { escape } from '../client/escape';
import type { Logger } from '../log';
import type { ResourcePath } from '../store/resource-files';
import { lookupOnHome, readMeta } from './home-files';
import { metaField } from './meta';
import { installVersion, type PublishRequest } from './publish';
import type { Subscription, SubscriptionTable } from './subscriptions';
import type { TransferServer } from './transfer-server';

/** Re-reads of a .meta that does not match the file opened (a publication ran in between). */
const OPEN_ATTEMPTS = 3;

export interface HomeDeps {
  readonly root: string;
  readonly subscriptions: SubscriptionTable;
  readonly transfers: TransferServer;
  readonly isHomeHere: (p: ResourcePath) => boolean;
  /** The listed IP of a host of the hosts table. */
  readonly ipOf: (host: string) => string | undefined;
  /** The classic `/raw/` URL of a resource on this host. */
  readonly rawUrl: (p: ResourcePath) => string;
  readonly critical: (peer: string, command: string) => Promise<string>;
  readonly log: Logger;
}

export interface PublishReport {
  readonly url: string;
  readonly version: number;
  readonly size: number;
  readonly sha256: string;
  readonly kept: string | null;
  readonly subscribers: ReadonlyArray<{ readonly host: string; readonly reply: string }>;
}

export class ResourceHome {
  readonly #d: HomeDeps;
  /** Publications in progress, by URL: one at a time per resource. */
  readonly #publishing = new Map<string, Promise<unknown>>();

  constructor(deps: HomeDeps) {
    this.#d = deps;
  }

  async subscribe(p: ResourcePath, caller: string): Promise<string> {
    const d = this.#d;
    if (!d.isHomeHere(p)) return 'rejected';
    const found = await lookupOnHome(d.root, p);
    if (found.kind === 'missing') return 'not_found';
    if (found.kind === 'directory') return 'directory';
    d.subscriptions.subscribe(p.url, caller, d.ipOf(caller) ?? '', Date.now());
    return d.rawUrl(p);
  }

  unsubscribe(p: ResourcePath, caller: string): string {
    if (!this.#d.isHomeHere(p)) return 'rejected';
    return this.#d.subscriptions.unsubscribe(p.url, caller) ? 'ok' : 'not_subscribed';
  }

  /** `fetch:<url>` → `ok:<handle>:<size>:<sha256>:<version>:<escaped meta>` or a refusal. */
  async openTransfer(p: ResourcePath, caller: string): Promise<string> {
    const d = this.#d;
    if (!d.isHomeHere(p)) return 'rejected';
    if (!d.subscriptions.isSubscribed(p.url, caller)) return 'not_subscribed';
    for (let attempt = 1; ; attempt++) {
      const found = await lookupOnHome(d.root, p);
      if (found.kind === 'missing') return 'not_found';
      if (found.kind === 'directory') return 'directory';
      const opened = await d.transfers.start(caller, p.url, found.file);
      const meta = await readMeta(found.file);
      const metaSha = metaField(meta, 'sha256');
      if (metaSha === undefined || metaSha === opened.sha256 || attempt >= OPEN_ATTEMPTS) {
        return `ok:${opened.handle}:${opened.size}:${opened.sha256}:${found.version}:${escape(meta)}`;
      }
      await d.transfers.end(caller, opened.handle);
    }
  }

  subscribers(p: ResourcePath): Subscription[] {
    return this.#d.subscriptions.subscribers(p.url);
  }

  /** May a classic caller at `ip` download `p` from `/raw/`? Only a subscribed host's listed address. */
  rawAllowed(p: ResourcePath, ip: string): boolean {
    return this.#d.isHomeHere(p) && this.#d.subscriptions.isSubscribedIp(p.url, ip);
  }

  /** Install a new version and notify every subscriber; one publication per URL at a time. */
  async publish(r: PublishRequest): Promise<PublishReport> {
    const url = r.resource.url;
    const before = this.#publishing.get(url) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => this.#publishNow(r));
    this.#publishing.set(url, mine);
    try {
      return await mine;
    } finally {
      if (this.#publishing.get(url) === mine) this.#publishing.delete(url);
    }
  }

  async #publishNow(r: PublishRequest): Promise<PublishReport> {
    const d = this.#d;
    const installed = await installVersion(d.root, r);
    d.transfers.primeDigest(installed.stats, installed.sha256);
    d.log.info(`replication: published ${installed.url} version ${installed.version} (${installed.size} bytes)`);
    const hosts = d.subscriptions.subscribers(installed.url).map((s) => s.host);
    const replies = await Promise.all(hosts.map((host) => d.critical(host, `update:${installed.url}`)));
    const subscribers = hosts.map((host, i) => ({ host, reply: replies[i]! }));
    for (const s of subscribers) d.log.info(`replication: update ${installed.url} at ${s.host}: ${s.reply}`);
    const { stats: _stats, ...report } = installed;
    return { ...report, subscribers };
  }
}
