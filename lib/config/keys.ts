/**
 * This host's static key pair (X25519, tweetnacl box keys) under
 * `SPOOL/keys/`: `host.key` (secret, base64, mode 0600) and `host.pub`.
 * Read once at start; created when missing.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { LoncapadError } from '../errors';
import type { StaticKeys } from '../wire';

export function keysDir(spool: string): string {
  return join(spool, 'keys');
}

export function loadOrCreateKeys(spool: string): StaticKeys & { created: boolean } {
  const dir = keysDir(spool);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const secretFile = join(dir, 'host.key');
  const publicFile = join(dir, 'host.pub');
  if (!existsSync(secretFile)) {
    const pair = nacl.box.keyPair();
    // 'wx': never overwrite a key another process just wrote.
    writeFileSync(secretFile, Buffer.from(pair.secretKey).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    writeFileSync(publicFile, Buffer.from(pair.publicKey).toString('base64') + '\n', { mode: 0o600 });
    return { ...pair, created: true };
  }
  const secretKey = Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'base64');
  if (secretKey.length !== nacl.box.secretKeyLength) {
    throw new LoncapadError('LC_ERR_CONFIG', `${secretFile}: not a key written by loncapad keygen`);
  }
  const pair = nacl.box.keyPair.fromSecretKey(new Uint8Array(secretKey));
  secretKey.fill(0);
  return { ...pair, created: false };
}

export function publicKeyBase64(keys: StaticKeys): string {
  return Buffer.from(keys.publicKey).toString('base64');
}
