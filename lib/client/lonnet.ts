/**
 * lonnet-style helpers for local programs: typed wrappers that build classic
 * commands (escaping keys and values as classic lonnet did) and parse the
 * replies into objects, plus home-server lookup and spare-server choice.
 *
 * They know nothing of the daemon: they speak through a `Transport` (the
 * client library's connection satisfies it) and take hosts as plain lists.
 * Classic failure replies become a `LonnetError` carrying the reply; a
 * critical write that was spooled answers `con_delayed`, which is not an
 * error (the message will be delivered).
 */
import { escape, unescape } from './escape';

export interface Transport {
  reply(peer: string, command: string, opts?: { timeoutMs?: number }): Promise<string>;
  critical(peer: string, command: string): Promise<string>;
}

export type LonnetErrorCode =
  | 'error'
  | 'refused'
  | 'rejected'
  | 'unknown_cmd'
  | 'con_lost'
  | 'con_failed'
  | 'no_such_host'
  | 'unable_to_set'
  | 'key_exists'
  | 'unexpected_reply';

const FAILURE_REPLIES: ReadonlySet<string> = new Set<LonnetErrorCode>([
  'refused',
  'rejected',
  'unknown_cmd',
  'con_lost',
  'con_failed',
  'no_such_host',
  'unable_to_set',
]);

export class LonnetError extends Error {
  readonly code: LonnetErrorCode;
  /** The classic reply line, e.g. `error:bad namespace` or `con_lost`. */
  readonly reply: string;

  constructor(code: LonnetErrorCode, reply: string, command: string) {
    // Only the command word: the rest of a line may carry a password.
    super(`${command}: ${reply}`);
    this.name = 'LonnetError';
    this.code = code;
    this.reply = reply;
  }
}

export interface WriteOptions {
  /** Send as a critical message: spooled when the peer is unreachable, applied exactly once. */
  readonly critical?: boolean;
}

/** `con_delayed`: spooled, will be delivered and applied once the peer is back. */
export type WriteAck = 'ok' | 'con_delayed';

export interface DumpOptions {
  /** JavaScript/Perl regular expression matched against the (unescaped) keys. */
  readonly regexp?: string;
  /** Matching pairs number `start` (default 0, inclusive) to `end` (exclusive), in key order. */
  readonly range?: { readonly start?: number; readonly end: number };
}

export interface RecordVersion {
  readonly version: number;
  /** Unix seconds of the `store` that made this version. */
  readonly timestamp: number;
  readonly values: Values;
}

export interface RestoredRecord {
  /** Number of versions (0: never stored). */
  readonly version: number;
  readonly versions: RecordVersion[];
}

export interface AuthInfo {
  readonly type: string;
  readonly arg: string;
}

export interface ListedFile {
  readonly name: string;
  /** Perl's stat order: dev ino mode nlink uid gid rdev size atime mtime ctime blksize blocks. */
  readonly stat: readonly number[];
}

export type AuthMode = 'internal' | 'krb4' | 'krb5' | 'localauth' | 'unix' | 'none';

/** Key → value, both plain (the wrappers escape them). */
export type Values = Record<string, string>;
type Pairs = Readonly<Values>;

export interface UserName {
  readonly domain: string;
  readonly name: string;
}

/** Fields sent raw (names, paths) may not carry the characters that frame a command. */
const RAW_FIELD_FORBIDDEN_RE = /[:&=\x00-\x1f\x7f]/;
const CONTROL_RE = /[\x00-\x1f\x7f]/;

function raw(what: string, value: string): string {
  if (RAW_FIELD_FORBIDDEN_RE.test(value)) throw new TypeError(`${what} may not contain : & = or control characters`);
  return value;
}

/** A path is a command's only (so last) field: only line breaks and other controls would break it. */
function pathField(path: string): string {
  if (CONTROL_RE.test(path)) throw new TypeError('path may not contain control characters');
  return path;
}

function userField(domain: string, user: string): string {
  return `${raw('domain', domain)}:${raw('user', user)}`;
}

function nsField(domain: string, user: string, ns: string): string {
  return `${userField(domain, user)}:${raw('namespace', ns)}`;
}

function isList(amounts: readonly string[] | Readonly<Record<string, number>>): amounts is readonly string[] {
  return Array.isArray(amounts);
}

function pairsField(record: Pairs): string {
  return Object.entries(record)
    .map(([k, v]) => `${escape(k)}=${escape(v)}`)
    .join('&');
}

function keysField(keys: readonly string[]): string {
  return keys.map(escape).join('&');
}

/** `k=v&k=v` (escaped) → record; the empty reply is the empty record. */
function parsePairs(reply: string): Values {
  const out: Values = {};
  if (reply === '') return out;
  for (const item of reply.split('&')) {
    const eq = item.indexOf('=');
    if (eq < 0) out[unescape(item)] = '';
    else out[unescape(item.slice(0, eq))] = unescape(item.slice(eq + 1));
  }
  return out;
}

/** The classic failure vocabulary, or undefined for a reply to parse. */
function failureOf(reply: string): LonnetErrorCode | undefined {
  if (reply === 'error' || reply.startsWith('error:')) return 'error';
  return FAILURE_REPLIES.has(reply) ? (reply as LonnetErrorCode) : undefined;
}

function wordOf(command: string): string {
  const colon = command.indexOf(':');
  return colon < 0 ? command : command.slice(0, colon);
}

export class Lonnet {
  readonly #transport: Transport;
  readonly #requestOptions: { timeoutMs?: number } | undefined;

  /** `timeoutMs`: deadline of each non-critical request; default the transport's own. */
  constructor(transport: Transport, options: { readonly timeoutMs?: number } = {}) {
    this.#transport = transport;
    this.#requestOptions = options.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs };
  }

  // ---- reads ---------------------------------------------------------------

  /** Does `user` live on `peer`? */
  async home(peer: string, domain: string, user: string): Promise<boolean> {
    const reply = await this.#expect(peer, `home:${userField(domain, user)}`, ['found', 'not_found']);
    return reply === 'found';
  }

  /** Every key asked for is in the result; missing ones are empty, as classic `get` answered. */
  get(peer: string, domain: string, user: string, ns: string, keys: readonly string[]): Promise<Values> {
    return this.#positional(peer, `get:${nsField(domain, user, ns)}:${keysField(keys)}`, keys);
  }

  eget(peer: string, domain: string, user: string, ns: string, keys: readonly string[]): Promise<Values> {
    return this.#positional(peer, `eget:${nsField(domain, user, ns)}:${keysField(keys)}`, keys);
  }

  async keys(peer: string, domain: string, user: string, ns: string): Promise<string[]> {
    const reply = await this.#ask(peer, `keys:${nsField(domain, user, ns)}`);
    return reply === '' ? [] : reply.split('&').map(unescape);
  }

  async dump(peer: string, domain: string, user: string, ns: string, options: DumpOptions = {}): Promise<Values> {
    let command = `dump:${nsField(domain, user, ns)}`;
    if (options.regexp !== undefined || options.range !== undefined) command += `:${escape(options.regexp ?? '.')}`;
    if (options.range !== undefined) command += `:${options.range.start ?? 0}-${options.range.end}`;
    return parsePairs(await this.#ask(peer, command));
  }

  /** The latest value of every key of every stored record: record id → key → value. */
  async currentdump(peer: string, domain: string, user: string, ns: string): Promise<Record<string, Values>> {
    const reply = await this.#ask(peer, `currentdump:${nsField(domain, user, ns)}`);
    const out: Record<string, Values> = {};
    if (reply === '') return out;
    for (const item of reply.split('&')) {
      const colon = item.indexOf(':');
      const eq = item.indexOf('=', colon);
      if (colon < 0 || eq < 0) throw new LonnetError('unexpected_reply', reply, 'currentdump');
      const rid = unescape(item.slice(0, colon));
      (out[rid] ??= {})[unescape(item.slice(colon + 1, eq))] = unescape(item.slice(eq + 1));
    }
    return out;
  }

  /** Every version of record `rid`, oldest first. */
  async restore(peer: string, domain: string, user: string, ns: string, rid: string): Promise<RestoredRecord> {
    const reply = await this.#ask(peer, `restore:${nsField(domain, user, ns)}:${escape(rid)}`);
    const fields = new Map<string, string>();
    for (const item of reply.split('&')) {
      const eq = item.indexOf('=');
      if (eq > 0) fields.set(item.slice(0, eq), item.slice(eq + 1));
    }
    const version = Number(fields.get('version'));
    if (!Number.isInteger(version) || version < 0) throw new LonnetError('unexpected_reply', reply, 'restore');
    const versions: RecordVersion[] = [];
    for (let v = 1; v <= version; v++) {
      const values: Values = {};
      let timestamp = 0;
      for (const key of (fields.get(`${v}:keys`) ?? '').split(':')) {
        const value = fields.get(`${v}:${key}`) ?? '';
        if (key === 'timestamp') timestamp = Number(value);
        else if (key !== '') values[unescape(key)] = unescape(value);
      }
      versions.push({ version: v, timestamp, values });
    }
    return { version, versions };
  }

  /** Usernames of institutional ids; unknown ids map to ''. */
  idget(peer: string, domain: string, ids: readonly string[]): Promise<Values> {
    return this.#positional(peer, `idget:${raw('domain', domain)}:${keysField(ids)}`, ids);
  }

  async tmpget(peer: string, id: string): Promise<Values> {
    return parsePairs(await this.#ask(peer, `tmpget:${raw('tmp id', id)}`));
  }

  /** Entries of a directory of the resource space; undefined when there is no such directory. */
  async ls(peer: string, path: string): Promise<ListedFile[] | undefined> {
    const reply = await this.#ask(peer, `ls:${pathField(path)}`);
    if (reply === 'no_such_dir') return undefined;
    if (reply === 'empty') return [];
    return reply.split(':').map((entry) => {
      const [name = '', ...stat] = entry.split('&');
      return { name: unescape(name), stat: stat.map(Number) };
    });
  }

  /** Current version number of a published resource; -1 when it is not published. */
  async currentversion(peer: string, path: string): Promise<number> {
    const reply = await this.#ask(peer, `currentversion:${pathField(path)}`);
    const version = Number(reply);
    if (!Number.isInteger(version)) throw new LonnetError('unexpected_reply', reply, 'currentversion');
    return version;
  }

  // ---- writes --------------------------------------------------------------

  put(peer: string, domain: string, user: string, ns: string, record: Pairs, options: WriteOptions = {}): Promise<WriteAck> {
    return this.#write(peer, `put:${nsField(domain, user, ns)}:${pairsField(record)}`, options);
  }

  /** Like put, but throws a LonnetError `key_exists` (and writes nothing) when any key exists. */
  newput(peer: string, domain: string, user: string, ns: string, record: Pairs, options: WriteOptions = {}): Promise<WriteAck> {
    return this.#write(peer, `newput:${nsField(domain, user, ns)}:${pairsField(record)}`, options);
  }

  del(peer: string, domain: string, user: string, ns: string, keys: readonly string[], options: WriteOptions = {}): Promise<WriteAck> {
    return this.#write(peer, `del:${nsField(domain, user, ns)}:${keysField(keys)}`, options);
  }

  /** Add 1 to each key of a list, or each amount of a record. */
  inc(
    peer: string,
    domain: string,
    user: string,
    ns: string,
    amounts: readonly string[] | Readonly<Record<string, number>>,
    options: WriteOptions = {},
  ): Promise<WriteAck> {
    const items = isList(amounts)
      ? amounts.map(escape)
      : Object.entries(amounts).map(([k, n]) => `${escape(k)}=${escape(String(n))}`);
    return this.#write(peer, `inc:${nsField(domain, user, ns)}:${items.join('&')}`, options);
  }

  /** Append a new version of record `rid` (the server adds `timestamp`). */
  store(
    peer: string,
    domain: string,
    user: string,
    ns: string,
    rid: string,
    record: Pairs,
    options: WriteOptions = {},
  ): Promise<WriteAck> {
    return this.#write(peer, `store:${nsField(domain, user, ns)}:${escape(rid)}:${pairsField(record)}`, options);
  }

  /** One line of the user's activity log; sent as is (classic did not escape it). */
  log(peer: string, domain: string, user: string, text: string, options: WriteOptions = {}): Promise<WriteAck> {
    if (CONTROL_RE.test(text)) throw new TypeError('log text may not contain control characters');
    return this.#write(peer, `log:${userField(domain, user)}:${text}`, options);
  }

  /** Grant roles (`/<cdom>/<cnum>_<role>` → `<role>_<end>_<start>`); `executor` is the user granting them. */
  rolesput(
    peer: string,
    executor: UserName,
    domain: string,
    user: string,
    roles: Pairs,
    options: WriteOptions = {},
  ): Promise<WriteAck> {
    const command = `rolesput:${userField(executor.domain, executor.name)}:${userField(domain, user)}:${pairsField(roles)}`;
    return this.#write(peer, command, options);
  }

  rolesdel(
    peer: string,
    executor: UserName,
    domain: string,
    user: string,
    roles: readonly string[],
    options: WriteOptions = {},
  ): Promise<WriteAck> {
    const command = `rolesdel:${userField(executor.domain, executor.name)}:${userField(domain, user)}:${keysField(roles)}`;
    return this.#write(peer, command, options);
  }

  /** Map institutional ids to usernames. */
  idput(peer: string, domain: string, ids: Pairs, options: WriteOptions = {}): Promise<WriteAck> {
    return this.#write(peer, `idput:${raw('domain', domain)}:${pairsField(ids)}`, options);
  }

  /** Keep `data` on `peer` for a while; answers its id. */
  tmpput(peer: string, data: Pairs): Promise<string> {
    return this.#ask(peer, `tmpput:${pairsField(data)}`);
  }

  async tmpdel(peer: string, id: string): Promise<void> {
    await this.#expect(peer, `tmpdel:${raw('tmp id', id)}`, ['ok']);
  }

  // ---- authentication (secret: never critical, never spooled) ----------------

  async makeuser(peer: string, domain: string, user: string, mode: AuthMode, arg: string): Promise<void> {
    await this.#expect(peer, `makeuser:${userField(domain, user)}:${mode}:${escape(arg)}`, ['ok']);
  }

  async changeuserauth(peer: string, domain: string, user: string, mode: AuthMode, arg: string): Promise<void> {
    await this.#expect(peer, `changeuserauth:${userField(domain, user)}:${mode}:${escape(arg)}`, ['ok']);
  }

  async auth(peer: string, domain: string, user: string, password: string): Promise<boolean> {
    const command = `auth:${userField(domain, user)}:${escape(password)}`;
    return (await this.#expect(peer, command, ['authorized', 'non_authorized'])) === 'authorized';
  }

  /** The user's authentication mode and its argument (empty for internal); undefined for an unknown user. */
  async currentauth(peer: string, domain: string, user: string): Promise<AuthInfo | undefined> {
    const reply = await this.#ask(peer, `currentauth:${userField(domain, user)}`);
    if (reply === 'unknown_user') return undefined;
    const colon = reply.indexOf(':');
    if (colon < 1) throw new LonnetError('unexpected_reply', reply, 'currentauth');
    return { type: reply.slice(0, colon), arg: reply.slice(colon + 1) };
  }

  /**
   * The user's auth token, which changes with every change of her
   * authentication (not classic); undefined for an unknown user.
   */
  async authToken(peer: string, domain: string, user: string): Promise<string | undefined> {
    const reply = await this.#ask(peer, `authtoken:${userField(domain, user)}`);
    return reply === 'unknown_user' ? undefined : reply;
  }

  passwd(
    peer: string,
    domain: string,
    user: string,
    oldPassword: string,
    newPassword: string,
  ): Promise<'ok' | 'non_authorized' | 'auth_mode_error'> {
    const command = `passwd:${userField(domain, user)}:${escape(oldPassword)}:${escape(newPassword)}`;
    return this.#expect(peer, command, ['ok', 'non_authorized', 'auth_mode_error'] as const);
  }

  // ---- plumbing --------------------------------------------------------------

  /** Send a request; a classic failure reply throws. */
  async #ask(peer: string, command: string): Promise<string> {
    const reply = await this.#transport.reply(peer, command, this.#requestOptions);
    const failure = failureOf(reply);
    if (failure) throw new LonnetError(failure, reply, wordOf(command));
    return reply;
  }

  async #expect<R extends string>(peer: string, command: string, allowed: readonly R[]): Promise<R> {
    const reply = await this.#ask(peer, command);
    if (!(allowed as readonly string[]).includes(reply)) throw new LonnetError('unexpected_reply', reply, wordOf(command));
    return reply as R;
  }

  async #positional(peer: string, command: string, keys: readonly string[]): Promise<Values> {
    if (keys.length === 0) return {};
    const reply = await this.#ask(peer, command);
    const values = reply.split('&');
    if (values.length !== keys.length) throw new LonnetError('unexpected_reply', reply, wordOf(command));
    const out: Values = {};
    keys.forEach((k, i) => (out[k] = unescape(values[i]!)));
    return out;
  }

  async #write(peer: string, command: string, options: WriteOptions): Promise<WriteAck> {
    const reply = options.critical
      ? await this.#transport.critical(peer, command)
      : await this.#transport.reply(peer, command, this.#requestOptions);
    if (reply === 'ok' || (options.critical && reply === 'con_delayed')) return reply as WriteAck;
    if (reply.startsWith('key_exists')) throw new LonnetError('key_exists', reply, wordOf(command));
    throw new LonnetError(failureOf(reply) ?? 'unexpected_reply', reply, wordOf(command));
  }
}

// ---- home server and spare server --------------------------------------------

/** What the helpers need to know of a host; `HostEntry` from the hosts table fits. */
export interface HostInfo {
  readonly id: string;
  readonly domain: string;
  readonly role: string;
}

/** The classic answer when no library server of the domain claims the user. */
export const NO_HOST = 'no_host';

export interface HomeServerOptions {
  /** How long a found home server is remembered, in milliseconds; default 10 minutes. */
  readonly ttlMs?: number;
  /** Deadline of each `home` request, in milliseconds; default the transport's own. */
  readonly timeoutMs?: number;
  /** Clock, for tests; default `Date.now`. */
  readonly now?: () => number;
}

const DEFAULT_HOME_TTL_MS = 10 * 60 * 1000;

interface CachedHome {
  readonly id: string;
  readonly expiresAt: number;
}

/**
 * Per transport (one connection, one process): found homes, and lookups in
 * flight so that concurrent callers share one round of questions. Negative
 * answers are not cached: a user created a moment later must be found.
 */
const homeCache = new WeakMap<Transport, Map<string, CachedHome>>();
const homeLookups = new WeakMap<Transport, Map<string, Promise<string>>>();

function mapFor<V>(maps: WeakMap<Transport, Map<string, V>>, transport: Transport): Map<string, V> {
  let map = maps.get(transport);
  if (!map) maps.set(transport, (map = new Map()));
  return map;
}

/**
 * The lonid of the library server where `user` of `domain` lives, or
 * `no_host`. Every library server of the domain is asked at once and the first
 * `found` wins. If none claims her but one could not be asked (`con_lost`
 * from the daemon, or a failure of the transport itself), that failure is
 * thrown instead of `no_host`: the unreachable server may be her home, and a
 * login must answer "try again later", not "unknown user".
 */
export function homeServer(
  transport: Transport,
  hosts: readonly HostInfo[],
  user: string,
  domain: string,
  options: HomeServerOptions = {},
): Promise<string> {
  const now = options.now ?? Date.now;
  const key = `${domain}:${user}`;
  const cache = mapFor(homeCache, transport);
  const cached = cache.get(key);
  if (cached && cached.expiresAt > now()) return Promise.resolve(cached.id);
  cache.delete(key);
  const lookups = mapFor(homeLookups, transport);
  const running = lookups.get(key);
  if (running) return running;
  const command = `home:${raw('domain', domain)}:${raw('user', user)}`;
  const libraries = hosts.filter((h) => h.domain === domain && h.role === 'library').map((h) => h.id);
  const lookup = firstFound(transport, libraries, command, options.timeoutMs)
    .then((id) => {
      if (id === undefined) return NO_HOST;
      cache.set(key, { id, expiresAt: now() + (options.ttlMs ?? DEFAULT_HOME_TTL_MS) });
      return id;
    })
    .finally(() => lookups.delete(key));
  lookups.set(key, lookup);
  return lookup;
}

/** Forget a remembered home server (e.g. after the user was moved). */
export function forgetHomeServer(transport: Transport, user: string, domain: string): void {
  homeCache.get(transport)?.delete(`${domain}:${user}`);
}

function firstFound(
  transport: Transport,
  peers: readonly string[],
  command: string,
  timeoutMs: number | undefined,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let left = peers.length;
    let failure: unknown;
    const settleOne = (): void => {
      if (--left > 0) return;
      if (failure !== undefined) reject(failure);
      else resolve(undefined);
    };
    if (left === 0) resolve(undefined);
    for (const peer of peers) {
      transport.reply(peer, command, timeoutMs === undefined ? undefined : { timeoutMs }).then(
        (reply) => {
          if (reply === 'found') return resolve(peer);
          if (reply === 'con_lost') failure ??= new LonnetError('con_lost', reply, 'home');
          settleOne();
        },
        (err: unknown) => {
          failure ??= err;
          settleOne();
        },
      );
    }
  });
}

export interface SpareServerOptions {
  /** Only spares below this load (percent, the larger of `load` and `userload`) qualify; default 100. */
  readonly maxLoad?: number;
  /** Deadline of each request, in milliseconds; default the transport's own. */
  readonly timeoutMs?: number;
}

/**
 * The least loaded of `spares` (lonids), judged by the larger of its `load`
 * and `userload` answers, asked in parallel; ties go to the earlier spare.
 * undefined when none answers with a load below `maxLoad`.
 */
export async function spareServer(
  transport: Transport,
  spares: readonly string[],
  options: SpareServerOptions = {},
): Promise<string | undefined> {
  const opts = options.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs };
  const loadOf = async (peer: string): Promise<number> => {
    const replies = await Promise.all([transport.reply(peer, 'load', opts), transport.reply(peer, 'userload', opts)]);
    const [load, userload] = replies.map((r) => (/^\d+(?:\.\d+)?$/.test(r) ? Number(r) : NaN));
    return Math.max(load!, userload!);
  };
  const loads = await Promise.allSettled(spares.map(loadOf));
  let best: string | undefined;
  let bestLoad = options.maxLoad ?? 100;
  loads.forEach((result, i) => {
    if (result.status === 'fulfilled' && result.value < bestLoad) {
      best = spares[i];
      bestLoad = result.value;
    }
  });
  return best;
}
