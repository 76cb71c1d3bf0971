/**
 * The peer handshake: mutual static-key authentication with ephemeral keys
 * for forward secrecy, in three messages (docs/wire-protocol.md has the byte
 * layout).
 *
 *   initiator I                                     responder R
 *   ── Hello: magic, vmin, vmax, eI, idI, idR ─────────▶  checks IP(idI), idR is ours,
 *                                                        versions overlap
 *   ◀──── ServerHello: magic, v, eR, idR, seal_RI(th) ──  keys from ee, se, es
 *   checks R's seal (R holds sR)
 *   ── Finish: seal_IR(th) ────────────────────────────▶ checks I's seal (I holds sI)
 *   ── application frames (may follow Finish at once) ─▶
 *
 *   th  = SHA-512(Hello ‖ ServerHello without its seal)
 *   k   = SHA-512(label ‖ th ‖ X25519(eI,eR) ‖ X25519(sI,eR) ‖ X25519(eI,sR))
 *   kIR = k[0..32] (I → R), kRI = k[32..64] (R → I); nonces count from 0.
 *
 * Each step is a create/consume pair that checks everything on local copies
 * and returns a result only when every check passed; the shared secrets are
 * wiped as soon as the keys are derived, and the ephemeral private keys
 * dropped (x25519.ts: they live in OpenSSL's memory).
 */
import { createHash } from 'node:crypto';
import { LoncapadError } from '../errors';
import { HELLO_MAGIC, KDF_LABEL, KEY_BYTES, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN } from './constants';
import { SealedSession } from './seal';
import { ephemeralKeyPair, x25519, type EphemeralKeyPair } from './x25519';

function sha512(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(data).digest());
}

export interface StaticKeys {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export interface Hello {
  readonly versionMin: number;
  readonly versionMax: number;
  readonly ephemeral: Uint8Array;
  readonly initiatorId: string;
  readonly targetId: string;
  /** The message as received, for the transcript. */
  readonly bytes: Buffer;
}

/** What the initiator keeps between sending Hello and reading ServerHello. */
export interface InitiationCreated {
  readonly state: 'initiation-created';
  readonly hello: Buffer;
  readonly ephemeral: EphemeralKeyPair;
  readonly targetId: string;
}

/** What the responder keeps between sending ServerHello and reading Finish. */
export interface ResponseCreated {
  readonly state: 'response-created';
  readonly session: SealedSession;
  readonly transcript: Uint8Array;
  readonly version: number;
  readonly initiatorId: string;
}

export interface Established {
  readonly session: SealedSession;
  readonly version: number;
}

function fail(why: string): never {
  throw new LoncapadError('LC_ERR_HANDSHAKE', why);
}

// ---- encoding helpers -----------------------------------------------------

function putId(out: number[], id: string): void {
  const b = Buffer.from(id, 'latin1');
  if (b.length === 0 || b.length > 255) fail('bad id length');
  out.push(b.length, ...b);
}

class Reader {
  #off = 0;
  constructor(readonly buf: Buffer) {}
  take(n: number): Buffer {
    if (this.#off + n > this.buf.length) fail('truncated handshake message');
    const out = this.buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  id(): string {
    return this.take(this.u8()).toString('latin1');
  }
  get offset(): number {
    return this.#off;
  }
  rest(): Buffer {
    return this.buf.subarray(this.#off);
  }
}

function expectMagic(r: Reader): void {
  if (!r.take(HELLO_MAGIC.length).equals(HELLO_MAGIC)) fail('bad magic');
}

function deriveKeys(transcript: Uint8Array, ee: Uint8Array, se: Uint8Array, es: Uint8Array): [Uint8Array, Uint8Array] {
  const k = sha512(Buffer.concat([KDF_LABEL, transcript, ee, se, es]));
  ee.fill(0);
  se.fill(0);
  es.fill(0);
  return [k.slice(0, KEY_BYTES), k.slice(KEY_BYTES, 2 * KEY_BYTES)];
}

function transcriptOf(hello: Buffer, serverHelloHead: Buffer): Uint8Array {
  return sha512(Buffer.concat([hello, serverHelloHead]));
}

// ---- initiator ------------------------------------------------------------

export function createHello(selfId: string, targetId: string): InitiationCreated {
  const ephemeral = ephemeralKeyPair();
  const out: number[] = [...HELLO_MAGIC, PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, ...ephemeral.publicKey];
  putId(out, selfId);
  putId(out, targetId);
  return { state: 'initiation-created', hello: Buffer.from(out), ephemeral, targetId };
}

/** Check R's ServerHello; returns the session and the Finish message to send. */
export function consumeServerHello(
  body: Buffer,
  init: InitiationCreated,
  self: StaticKeys,
  responderPublicKey: Uint8Array,
): Established & { finish: Buffer } {
  if (init.state !== 'initiation-created') fail(`consumeServerHello in state ${String(init.state)}`);
  const r = new Reader(body);
  expectMagic(r);
  const version = r.u8();
  if (version < PROTOCOL_VERSION_MIN || version > PROTOCOL_VERSION_MAX) fail(`responder chose version ${version}`);
  const eR = r.take(KEY_BYTES);
  const responderId = r.id();
  if (responderId !== init.targetId) fail(`responder is ${responderId}, wanted ${init.targetId}`);
  const head = body.subarray(0, r.offset);
  const transcript = transcriptOf(init.hello, head);
  const [kIR, kRI] = deriveKeys(
    transcript,
    x25519(init.ephemeral.privateKey, eR),
    x25519(self.secretKey, eR),
    x25519(init.ephemeral.privateKey, responderPublicKey),
  );
  const session = new SealedSession(kIR, kRI);
  let confirmed: Uint8Array;
  try {
    confirmed = session.open(r.rest());
  } catch {
    session.destroy();
    fail('responder does not hold the key listed for it');
  }
  if (!Buffer.from(confirmed).equals(Buffer.from(transcript))) {
    session.destroy();
    fail('responder confirmed another transcript');
  }
  return { session, version, finish: Buffer.from(session.seal(transcript)) };
}

// ---- responder ------------------------------------------------------------

/** Parse a Hello; the caller checks the ids and the source IP against the hosts table. */
export function parseHello(body: Buffer): Hello {
  const r = new Reader(body);
  expectMagic(r);
  const versionMin = r.u8();
  const versionMax = r.u8();
  const ephemeral = Buffer.from(r.take(KEY_BYTES));
  const initiatorId = r.id();
  const targetId = r.id();
  if (r.rest().length !== 0) fail('trailing bytes in hello');
  return { versionMin, versionMax, ephemeral, initiatorId, targetId, bytes: body };
}

export function createServerHello(
  hello: Hello,
  responderId: string,
  self: StaticKeys,
  initiatorPublicKey: Uint8Array,
): ResponseCreated & { serverHello: Buffer } {
  const version = Math.min(hello.versionMax, PROTOCOL_VERSION_MAX);
  if (version < Math.max(hello.versionMin, PROTOCOL_VERSION_MIN)) {
    fail(`no common protocol version (peer ${hello.versionMin}..${hello.versionMax}, ours ${PROTOCOL_VERSION_MIN}..${PROTOCOL_VERSION_MAX})`);
  }
  const ephemeral = ephemeralKeyPair();
  const headBytes: number[] = [...HELLO_MAGIC, version, ...ephemeral.publicKey];
  putId(headBytes, responderId);
  const head = Buffer.from(headBytes);
  const transcript = transcriptOf(hello.bytes, head);
  const [kIR, kRI] = deriveKeys(
    transcript,
    x25519(ephemeral.privateKey, hello.ephemeral),
    x25519(ephemeral.privateKey, initiatorPublicKey),
    x25519(self.secretKey, hello.ephemeral),
  );
  const session = new SealedSession(kRI, kIR);
  const serverHello = Buffer.concat([head, session.seal(transcript)]);
  return { state: 'response-created', session, transcript, version, initiatorId: hello.initiatorId, serverHello };
}

/** Check I's Finish: proves I holds the static key listed for it. */
export function consumeFinish(body: Buffer, pending: ResponseCreated): Established {
  if (pending.state !== 'response-created') fail(`consumeFinish in state ${String(pending.state)}`);
  let confirmed: Uint8Array;
  try {
    confirmed = pending.session.open(body);
  } catch {
    pending.session.destroy();
    fail(`initiator does not hold the key listed for ${pending.initiatorId}`);
  }
  if (!Buffer.from(confirmed).equals(Buffer.from(pending.transcript))) {
    pending.session.destroy();
    fail('initiator confirmed another transcript');
  }
  return { session: pending.session, version: pending.version };
}
