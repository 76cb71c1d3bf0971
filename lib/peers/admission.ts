/**
 * Admission of unauthenticated connections: how much work a listed address
 * may make us do before it has proved anything. A Hello costs us three
 * X25519 multiplications and a key pair on the event loop (~0.25 ms through
 * OpenSSL, and more under load), so a
 * listed address that floods us with Hellos could starve every other peer.
 *
 *   accept ─▶ handshakes pending from this address < PER_SOURCE_PENDING
 *          ─▶ handshakes pending in total < TOTAL_PENDING
 *          ─▶ a token in this address's bucket and in the global bucket
 *          ─▶ admitted (the crypto may run); otherwise closed at once,
 *             before any crypto, and the peer retries with its backoff.
 *
 * Buckets refill continuously (token bucket); an address's bucket is
 * forgotten once full and idle, so memory follows the addresses that are
 * actually connecting, bounded by MAX_TRACKED_SOURCES. Pure: the caller
 * passes the clock.
 */
export interface AdmissionPolicy {
  /** Handshakes in progress from one address. */
  readonly perSourcePending: number;
  /** Handshakes in progress in total. */
  readonly totalPending: number;
  /** Hellos per second per address (sustained), and the burst. */
  readonly perSourceRate: number;
  readonly perSourceBurst: number;
  /** Hellos per second in total (sustained), and the burst. */
  readonly totalRate: number;
  readonly totalBurst: number;
}

export const DEFAULT_ADMISSION: AdmissionPolicy = {
  perSourcePending: 8,
  totalPending: 128,
  perSourceRate: 20,
  perSourceBurst: 40,
  totalRate: 500,
  totalBurst: 1000,
};

/** Addresses whose buckets are remembered at once; past this, the oldest idle ones go. */
const MAX_TRACKED_SOURCES = 4096;

interface Bucket {
  tokens: number;
  at: number;
  pending: number;
}

export type AdmissionVerdict = 'ok' | 'too many handshakes pending from this address' | 'too many handshakes pending' | 'handshake rate exceeded from this address' | 'handshake rate exceeded';

export class HandshakeAdmission {
  readonly #p: AdmissionPolicy;
  readonly #sources = new Map<string, Bucket>();
  readonly #total: Bucket;

  constructor(policy: AdmissionPolicy = DEFAULT_ADMISSION, now = 0) {
    this.#p = policy;
    this.#total = { tokens: policy.totalBurst, at: now, pending: 0 };
  }

  get pending(): number {
    return this.#total.pending;
  }

  /** May a new connection from `ip` start a handshake now? On 'ok' the caller must call `finished(ip)` later. */
  admit(ip: string, now: number): AdmissionVerdict {
    const src = this.#source(ip, now);
    if (src.pending >= this.#p.perSourcePending) return 'too many handshakes pending from this address';
    if (this.#total.pending >= this.#p.totalPending) return 'too many handshakes pending';
    refill(src, now, this.#p.perSourceRate, this.#p.perSourceBurst);
    refill(this.#total, now, this.#p.totalRate, this.#p.totalBurst);
    if (src.tokens < 1) return 'handshake rate exceeded from this address';
    if (this.#total.tokens < 1) return 'handshake rate exceeded';
    src.tokens--;
    this.#total.tokens--;
    src.pending++;
    this.#total.pending++;
    return 'ok';
  }

  /** The handshake of an admitted connection ended (authenticated, refused or closed). */
  finished(ip: string): void {
    const src = this.#sources.get(ip);
    if (src && src.pending > 0) src.pending--;
    if (this.#total.pending > 0) this.#total.pending--;
  }

  #source(ip: string, now: number): Bucket {
    let b = this.#sources.get(ip);
    if (b) {
      // Most recently used last: Map keeps insertion order.
      this.#sources.delete(ip);
      this.#sources.set(ip, b);
      return b;
    }
    if (this.#sources.size >= MAX_TRACKED_SOURCES) this.#forgetIdle(now);
    b = { tokens: this.#p.perSourceBurst, at: now, pending: 0 };
    this.#sources.set(ip, b);
    return b;
  }

  /** Drop buckets that are full again and have nothing pending (they would be recreated the same). */
  #forgetIdle(now: number): void {
    for (const [ip, b] of this.#sources) {
      refill(b, now, this.#p.perSourceRate, this.#p.perSourceBurst);
      if (b.pending === 0 && b.tokens >= this.#p.perSourceBurst) this.#sources.delete(ip);
      if (this.#sources.size < MAX_TRACKED_SOURCES / 2) return;
    }
  }
}

function refill(b: Bucket, now: number, rate: number, burst: number): void {
  if (now > b.at) b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
  b.at = now;
}
