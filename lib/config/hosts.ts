/**
 * The hosts table: one host a line, `lonid:domain:role:hostname:ip:publickey`.
 * `#` starts a comment; blank lines are ignored. Every error names the file
 * and the line, because operators edit this file by hand on many servers.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { LoncapadError } from '../errors';

export type HostRole = 'library' | 'access';

export interface HostEntry {
  readonly id: string;
  readonly domain: string;
  readonly role: HostRole;
  readonly hostname: string;
  readonly ip: string;
  /** X25519 public key, base64 (the output of `loncapad keygen`). */
  readonly publicKey: string;
}

/** lonids and domains: the classic ones are short words; keep them safe as file names. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const KEY_RE = /^[A-Za-z0-9+/]{43}=$/;

export class HostsTable {
  readonly #byId: Map<string, HostEntry>;
  /** lonids by IP: every accepted connection asks (1,000 hosts made a scan show in profiles). */
  readonly #idsByIp = new Map<string, string[]>();

  constructor(entries: readonly HostEntry[]) {
    this.#byId = new Map(entries.map((e) => [e.id, e]));
    for (const e of entries) {
      const ids = this.#idsByIp.get(e.ip);
      if (ids) ids.push(e.id);
      else this.#idsByIp.set(e.ip, [e.id]);
    }
  }

  get(id: string): HostEntry | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  all(): HostEntry[] {
    return [...this.#byId.values()];
  }

  /** Every lonid listed with this IP (aliases of one machine, for `sethost`). */
  idsAtIp(ip: string): string[] {
    return [...(this.#idsByIp.get(ip) ?? [])];
  }

}

export function parseHostsTable(text: string, file: string): HostsTable {
  const entries: HostEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') continue;
    const fail = (why: string): never => {
      throw new LoncapadError('LC_ERR_HOSTS_TABLE', `${file}:${lineNo}: ${why}`);
    };
    const f = line.split(':');
    // IPv6 addresses contain ':'; the key never does, the first four fields never do.
    if (f.length < 6) fail(`expected lonid:domain:role:hostname:ip:publickey, got ${f.length} fields`);
    const [id, domain, role, hostname] = f as [string, string, string, string];
    const publicKey = f[f.length - 1]!;
    const ip = f.slice(4, f.length - 1).join(':');
    if (!ID_RE.test(id)) fail(`bad lonid "${id}"`);
    if (!ID_RE.test(domain)) fail(`bad domain "${domain}"`);
    if (role !== 'library' && role !== 'access') fail(`role must be library or access, got "${role}"`);
    if (hostname === '' || /\s/.test(hostname)) fail(`bad hostname "${hostname}"`);
    if (!isIPv4(ip) && !isIPv6(ip)) fail(`bad ip address "${ip}"`);
    if (!KEY_RE.test(publicKey)) fail('bad public key (expected 44 characters of base64 from `loncapad keygen`)');
    const first = seen.get(id);
    if (first !== undefined) fail(`duplicate lonid "${id}" (first on line ${first})`);
    seen.set(id, lineNo);
    entries.push({ id, domain, role: role as HostRole, hostname, ip, publicKey });
  }
  return new HostsTable(entries);
}

/** Read at start and on SIGHUP only, never on the request path. */
export function readHostsTable(file: string): HostsTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LoncapadError('LC_ERR_HOSTS_TABLE', `${file}: ${(err as Error).message}`);
  }
  return parseHostsTable(text, file);
}
