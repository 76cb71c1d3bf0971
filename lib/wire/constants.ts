/**
 * Protocol constants (what a second implementation must match) first, then
 * implementation limits (what this one chooses). See docs/wire-protocol.md.
 */

// ---- protocol -------------------------------------------------------------

/** First four bytes of both hello messages. */
export const HELLO_MAGIC = Buffer.from('LCD1', 'latin1');
/** Wire protocol versions this build speaks; the responder picks the highest common one. */
export const PROTOCOL_VERSION_MIN = 1;
export const PROTOCOL_VERSION_MAX = 1;
/** Every frame starts with its body length as a big-endian u32. */
export const FRAME_HEADER_BYTES = 4;
/** X25519 key and secretbox sizes (tweetnacl). */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const MAC_BYTES = 16;
/** Domain separation for the session key hash. */
export const KDF_LABEL = Buffer.from('loncapad session keys v1', 'latin1');

// ---- implementation limits ------------------------------------------------

/**
 * Largest sealed frame body we accept. A frame carries one loop turn of
 * messages; the biggest single message is a large reply (dump), answered in
 * pieces well below this. Checked at the header, before buffering.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Hellos are tiny; an unauthenticated peer may not make us buffer more. */
export const MAX_HANDSHAKE_FRAME_BYTES = 512;
/** A peer that has not finished the handshake by then is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/**
 * Nonces are 64-bit counters; we stop far below wrap-around (and below
 * 2^53, where JS numbers stop being exact) and reconnect for fresh keys.
 */
export const REJECT_AFTER_MESSAGES = 2 ** 48;
