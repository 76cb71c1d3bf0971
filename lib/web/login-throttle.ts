/**
 * The one owner of failed-login records: per source address, and per account
 * tried from one source address. Applies the pure policy of
 * login-throttle-policy.ts; the login gate asks it before any password check.
 *
 *   admit(account, source) ─▶ refused (wait, which scope)   nothing is checked
 *                          └▶ ticket ─▶ … check … ─▶ finish(ticket, outcome)
 *
 * Why these scopes and no account-wide refusal: a refusal that counts
 * failures from every address lets anyone lock a user out by guessing her
 * password badly. Scoped to account + source, the attacker locks only
 * himself out; the user logs in from her own address as usual. The source
 * scope bounds what one address can cost in password checks, whatever
 * accounts it sprays. (Many addresses guessing one account are each bounded;
 * the home server bounds its own scrypt work.)
 *
 * Memory is bounded: each scope keeps at most MAX_RECORDS_PER_SCOPE keys,
 * the least recently changed going first, and records with nothing left to
 * remember are dropped as they reach the front. IPv6 sources count per /64
 * (what one host is usually given), so an attacker cannot spray addresses
 * from his own prefix.
 */
import { isIPv6 } from 'node:net';
import {
  isSpent,
  waitMs,
  withFinished,
  withStarted,
  type CheckOutcome,
  type ThrottleLimits,
  type ThrottleRecord,
} from './login-throttle-policy';

export interface LoginThrottleSettings {
  /** Failed logins to one account from one source before that source is refused for it. */
  readonly failuresPerAccount: number;
  /** Failed logins from one source, any accounts, before it is refused. */
  readonly failuresPerSource: number;
  /** How long a refusal lasts, ms; failures drain fully over this time. */
  readonly lockoutMs: number;
  /** The wait after a second failed login to one account from one source, ms; doubles with each further one. */
  readonly delayMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = {
  failuresPerAccount: 5,
  failuresPerSource: 50,
  lockoutMs: 300_000,
  delayMs: 1_000,
};

/** Keys remembered per scope: about 200 bytes each, so a few MiB at most however many are sprayed. */
export const MAX_RECORDS_PER_SCOPE = 20_000;

export type ThrottleScope = 'account' | 'source';

export type Admission =
  | { readonly admitted: true; readonly ticket: LoginTicket }
  | { readonly admitted: false; readonly retryAfterMs: number; readonly scope: ThrottleScope };

/** An admitted attempt; hand it back to `finish` exactly once. */
export interface LoginTicket {
  readonly sourceKey: string;
  readonly accountKey: string | undefined;
}

export class LoginThrottle {
  readonly #source: ThrottleTable;
  readonly #account: ThrottleTable;

  constructor(settings: LoginThrottleSettings = DEFAULT_LOGIN_THROTTLE, maxRecords = MAX_RECORDS_PER_SCOPE) {
    this.#source = new ThrottleTable(
      { maxFailures: settings.failuresPerSource, lockoutMs: settings.lockoutMs, delayMs: 0, clearOnPass: false },
      maxRecords,
    );
    this.#account = new ThrottleTable(
      { maxFailures: settings.failuresPerAccount, lockoutMs: settings.lockoutMs, delayMs: settings.delayMs, clearOnPass: true },
      maxRecords,
    );
  }

  /** Keys remembered, both scopes together. */
  get size(): number {
    return this.#source.size + this.#account.size;
  }

  /**
   * May an attempt on `account` (`<user>:<domain>`, or undefined for a
   * malformed name) from `address` be checked now?
   */
  admit(account: string | undefined, address: string, nowMs: number): Admission {
    const sourceKey = sourceKeyOf(address);
    const accountKey = account === undefined ? undefined : `${account}@${sourceKey}`;
    const sourceWait = this.#source.wait(sourceKey, nowMs);
    const accountWait = accountKey === undefined ? 0 : this.#account.wait(accountKey, nowMs);
    if (sourceWait > 0 || accountWait > 0) {
      return { admitted: false, retryAfterMs: Math.max(sourceWait, accountWait), scope: sourceWait >= accountWait ? 'source' : 'account' };
    }
    this.#source.start(sourceKey, nowMs);
    if (accountKey !== undefined) this.#account.start(accountKey, nowMs);
    return { admitted: true, ticket: { sourceKey, accountKey } };
  }

  finish(ticket: LoginTicket, outcome: CheckOutcome, nowMs: number): void {
    this.#source.finish(ticket.sourceKey, outcome, nowMs);
    if (ticket.accountKey !== undefined) this.#account.finish(ticket.accountKey, outcome, nowMs);
  }
}

/** One scope's records, least recently changed first. */
class ThrottleTable {
  readonly #records = new Map<string, ThrottleRecord>();
  readonly #limits: ThrottleLimits;
  readonly #maxRecords: number;

  constructor(limits: ThrottleLimits, maxRecords: number) {
    this.#limits = limits;
    this.#maxRecords = maxRecords;
  }

  get size(): number {
    return this.#records.size;
  }

  wait(key: string, nowMs: number): number {
    return waitMs(this.#records.get(key), nowMs, this.#limits);
  }

  start(key: string, nowMs: number): void {
    this.#put(key, withStarted(this.#records.get(key), nowMs, this.#limits), nowMs);
  }

  finish(key: string, outcome: CheckOutcome, nowMs: number): void {
    // A record evicted meanwhile finishes as a fresh one: bounded memory wins over one lost count.
    this.#put(key, withFinished(this.#records.get(key), nowMs, outcome, this.#limits), nowMs);
  }

  #put(key: string, rec: ThrottleRecord | undefined, nowMs: number): void {
    this.#records.delete(key);
    if (rec !== undefined) this.#records.set(key, rec);
    for (const [oldest, old] of this.#records) {
      if (this.#records.size <= this.#maxRecords && !isSpent(old, nowMs, this.#limits)) break;
      this.#records.delete(oldest);
    }
  }
}

/** IPv4 as is; IPv6 by its /64 (an IPv4-mapped address as the IPv4 address). */
export function sourceKeyOf(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice('::ffff:'.length);
  if (!isIPv6(address)) return address;
  return expandIPv6(address).slice(0, 4).join(':') + '::/64';
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.map((g) => (g.includes('.') ? g : Number.parseInt(g, 16).toString(16)));
}
