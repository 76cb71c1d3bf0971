/**
 * This host's place in the network: the hosts table it runs with (the
 * configured file, or the embedded one-host network of this machine), its
 * own entry checked against its key, and a manager's new table installed.
 */
import { rename, writeFile } from 'node:fs/promises';
import { LoncapadError } from '../errors';
import { HostsTable, parseHostsTable, readHostsTable, type HostEntry } from './hosts';
import type { Config } from './load';

/** The hosts table file, or the embedded one-host network made of this machine (key `publicKey`). */
export function hostsOf(config: Config, publicKey: string): HostsTable {
  if (config.hostsFile) return readHostsTable(config.hostsFile);
  return new HostsTable([
    { id: config.hostId, domain: config.domain, role: config.role, hostname: 'localhost', ip: config.ip, publicKey },
  ]);
}

/** This host's entry in `hosts`; refused when it is missing or listed with another key. */
export function selfIn(hosts: HostsTable, config: Config, publicKey: string): HostEntry {
  const self = hosts.get(config.hostId);
  if (!self) {
    throw new LoncapadError('LC_ERR_CONFIG', `host id "${config.hostId}" is not in ${config.hostsFile ?? 'the hosts table'} (set --host-id)`);
  }
  if (self.publicKey !== publicKey) {
    throw new LoncapadError('LC_ERR_CONFIG', `${config.hostsFile}: ${self.id} is listed with another public key; this host's key is ${publicKey}`);
  }
  return self;
}

/**
 * A manager's `pushfile:hosts`: check the table as a reload would (this host
 * must be in it, with its key), then install it by write-and-rename, so the
 * file is never half-written. The caller reloads.
 */
export async function installHostsTable(config: Config, publicKey: string, text: string): Promise<string> {
  const file = config.hostsFile;
  if (!file) throw new LoncapadError('LC_ERR_BAD_ARGS', 'this host runs the one-host default network (no --hosts file)');
  selfIn(parseHostsTable(text, 'the pushed hosts table'), config, publicKey);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
  return file;
}
