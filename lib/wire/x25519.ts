/**
 * X25519 (RFC 7748) through node:crypto (OpenSSL) instead of tweetnacl's
 * pure JavaScript: the same function — tweetnacl's `scalarMult` gives the
 * same bytes — at a fraction of the cost, where it matters most: a handshake
 * made three multiplications and a key pair per side, ~2 ms of event loop in
 * JavaScript, ~0.25 ms here, which decides how fast 1,000 links come up.
 *
 * OpenSSL wants keys as KeyObjects, and importing a private key costs more
 * than the multiplication (~0.3 ms: it derives the public key), so a static
 * key is imported once (cached by its byte array) and an ephemeral key pair
 * is made as a KeyObject to begin with. Public keys come and go as JWK
 * (`x`: the raw key, base64url), not DER: OpenSSL 3 parses a DER key
 * through its decoder framework, ~75 µs an import and ~65 µs an export
 * here, against ~7 and ~1 µs for the same key as JWK (node builds it from
 * the raw bytes). With three imports and an export a side, that was more
 * than the three multiplications.
 *
 * The ephemeral public key is encoded by generateKeyPairSync itself
 * (`publicKeyEncoding: jwk`), never exported from the KeyObject afterwards:
 * node 20's JWK export holds the key's mutex while it allocates, and the
 * finished key generation job, garbage by then and sharing that mutex, locks
 * it when a collection during that allocation finalizes it: the thread
 * deadlocks on itself (gdb: ~KeyGenJob under KeyObjectHandle::ExportJWK).
 * It hung a process within 20,000–60,000 handshakes. Inside the call the
 * job is still alive, so nothing finalizes it there; diffieHellman takes no
 * lock at all. test/x25519-deadlock.test.ts makes 50,000 pairs with a
 * collection every 13 allocations (the old way hung there every time). An
 * ephemeral private key lives in
 * OpenSSL's memory, not in a JavaScript array, so it cannot be wiped by hand;
 * it is dropped as soon as the session keys are derived and freed (cleared)
 * by OpenSSL when collected.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { LoncapadError } from '../errors';
import { KEY_BYTES } from './constants';

/** DER prefix of a raw X25519 private key (PKCS #8): the key follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface EphemeralKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

const importedSecrets = new WeakMap<Uint8Array, KeyObject>();

/**
 * generateKeyPairSync with only the public key encoded (JWK) and the private
 * one a KeyObject: node does it, @types/node has no overload for it.
 */
const generateWithJwkPublic = generateKeyPairSync as unknown as (
  type: 'x25519',
  options: { publicKeyEncoding: { format: 'jwk' } },
) => { publicKey: JsonWebKey; privateKey: KeyObject };

export function ephemeralKeyPair(): EphemeralKeyPair {
  const pair = generateWithJwkPublic('x25519', { publicKeyEncoding: { format: 'jwk' } });
  return { publicKey: new Uint8Array(Buffer.from(pair.publicKey.x as string, 'base64url')), privateKey: pair.privateKey };
}

/** A static secret key (32 raw bytes) as a KeyObject, imported once. */
export function secretKeyObject(secretKey: Uint8Array): KeyObject {
  let key = importedSecrets.get(secretKey);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
    importedSecrets.set(secretKey, key);
  }
  return key;
}

/** X25519(secret, public) → 32 bytes. A point that gives no shared secret (low order) is a handshake failure. */
export function x25519(secret: KeyObject | Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== KEY_BYTES) throw new LoncapadError('LC_ERR_HANDSHAKE', 'bad public key length');
  const privateKey = secret instanceof Uint8Array ? secretKeyObject(secret) : secret;
  try {
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
    return new Uint8Array(diffieHellman({ privateKey, publicKey: pub }));
  } catch {
    throw new LoncapadError('LC_ERR_HANDSHAKE', 'no shared secret with that public key');
  }
}
