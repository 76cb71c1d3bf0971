/**
 * The sealed session: tweetnacl secretbox (XSalsa20-Poly1305) with one key
 * per direction and implicit counter nonces.
 *
 * The nonce is never sent: both ends count frames. A frame that was replayed,
 * reordered, dropped or forged fails to open under the expected counter, and
 * the owner ends the link. TCP delivers in order, so no replay window is
 * needed (wireguard-go needs one because UDP reorders).
 */
import nacl from 'tweetnacl';
import { LoncapadError } from '../errors';
import { KEY_BYTES, NONCE_BYTES, REJECT_AFTER_MESSAGES } from './constants';

export class SealedSession {
  readonly #sendKey: Uint8Array;
  readonly #recvKey: Uint8Array;
  #sendCounter = 0;
  #recvCounter = 0;
  readonly #nonce = new Uint8Array(NONCE_BYTES);

  constructor(sendKey: Uint8Array, recvKey: Uint8Array) {
    if (sendKey.length !== KEY_BYTES || recvKey.length !== KEY_BYTES) throw new Error('session keys must be 32 bytes');
    this.#sendKey = sendKey;
    this.#recvKey = recvKey;
  }

  seal(plain: Uint8Array): Uint8Array {
    if (this.#sendCounter >= REJECT_AFTER_MESSAGES) {
      throw new LoncapadError('LC_ERR_DECRYPT', 'send counter exhausted; reconnect for fresh keys');
    }
    return nacl.secretbox(plain, this.#nonceFor(this.#sendCounter++), this.#sendKey);
  }

  open(boxed: Uint8Array): Uint8Array {
    if (this.#recvCounter >= REJECT_AFTER_MESSAGES) {
      throw new LoncapadError('LC_ERR_DECRYPT', 'receive counter exhausted');
    }
    const plain = nacl.secretbox.open(boxed, this.#nonceFor(this.#recvCounter), this.#recvKey);
    if (!plain) throw new LoncapadError('LC_ERR_DECRYPT', `frame ${this.#recvCounter} failed authentication`);
    this.#recvCounter++;
    return plain;
  }

  /** Wipe both keys; the session is useless afterwards. */
  destroy(): void {
    this.#sendKey.fill(0);
    this.#recvKey.fill(0);
  }

  /** Little-endian 64-bit counter in the first 8 bytes; the rest stays zero. */
  #nonceFor(counter: number): Uint8Array {
    const n = this.#nonce;
    let c = counter;
    for (let i = 0; i < 8; i++) {
      n[i] = c % 256;
      c = Math.floor(c / 256);
    }
    return n;
  }
}
