/**
 * A home server's subscribers (classic D3c/U3d): one row per (resource,
 * host), replaced when the host subscribes again, so `since` is the time of
 * its latest `sub`. The address is the host's listed IP at that time, for
 * the `/raw` access check of classic callers.
 */
import type { Db } from '../store/sqlite';

export interface Subscription {
  readonly host: string;
  readonly ip: string;
  /** ms since the epoch */
  readonly since: number;
}

export class SubscriptionTable {
  readonly #upsert;
  readonly #remove;
  readonly #list;
  readonly #byIp;
  readonly #has;

  constructor(db: Db) {
    this.#upsert = db.prepare('INSERT OR REPLACE INTO res_subscriptions (url, host, ip, since) VALUES (?, ?, ?, ?)');
    this.#remove = db.prepare('DELETE FROM res_subscriptions WHERE url = ? AND host = ?');
    this.#list = db.prepare('SELECT host, ip, since FROM res_subscriptions WHERE url = ? ORDER BY host');
    this.#byIp = db.prepare('SELECT 1 FROM res_subscriptions WHERE url = ? AND ip = ? LIMIT 1').pluck();
    this.#has = db.prepare('SELECT 1 FROM res_subscriptions WHERE url = ? AND host = ?').pluck();
  }

  subscribe(url: string, host: string, ip: string, now: number): void {
    this.#upsert.run(url, host, ip, now);
  }

  /** false when `host` was not subscribed to `url`. */
  unsubscribe(url: string, host: string): boolean {
    return this.#remove.run(url, host).changes === 1;
  }

  isSubscribed(url: string, host: string): boolean {
    return this.#has.get(url, host) !== undefined;
  }

  /** Is some host subscribed to `url` from this address? */
  isSubscribedIp(url: string, ip: string): boolean {
    return this.#byIp.get(url, ip) !== undefined;
  }

  subscribers(url: string): Subscription[] {
    return this.#list.all(url) as Subscription[];
  }
}
