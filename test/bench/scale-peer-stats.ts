/**
 * What the scale bench's driver and its helper processes share: the peers'
 * specs and the helpers' settings (written to a JSON file per helper), and
 * what a helper counts and reports back over IPC (`counts`).
 */
import type { BackoffPolicy } from '../../lib/peers';

export interface PeerSpec {
  readonly id: string;
  readonly ip: string;
  /** base64 X25519 keys */
  readonly publicKey: string;
  readonly secretKey: string;
}

export interface HelperConfig {
  readonly daemon: { readonly id: string; readonly ip: string; readonly publicKey: string };
  readonly port: number;
  readonly peers: readonly PeerSpec[];
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly deadAfterFailures: number;
}

/** What a helper reports on `counts`. Times are Date.now() values (ms), comparable across processes. */
export interface HelperCounts {
  readonly ev: 'counts';
  readonly peers: number;
  /** Peers whose outbound link to the daemon is up now. */
  readonly outboundUp: number;
  /** Daemon links to our peers that are up now. */
  readonly inboundUp: number;
  /** When the last of our peers' outbound links came up while all were up, or null while some are down. */
  readonly outboundAllUpAt: number | null;
  /** Since `mark`: when each outbound link came up (a peer that came up twice counts twice). */
  readonly outboundUpAtSinceMark: readonly number[];
  /** Since `mark`: peers the daemon completed a handshake with (its announcement), and when the last one did. */
  readonly inboundPeersSinceMark: number;
  readonly inboundAllSinceMarkAt: number | null;
  /** Since `mark`: failed outbound attempts, by cause. */
  readonly failures: Readonly<Record<string, number>>;
  /** Since `mark`: keep-alives sent by our peers, answered by the daemon, and keep-alives of the daemon we answered. */
  readonly pingsSent: number;
  readonly pongsReceived: number;
  readonly pingsAnswered: number;
  /** Peers in each outbound state now. */
  readonly states: Readonly<Record<string, number>>;
}

/** A helper's counters, shared by its peers' links; `mark` starts a new measurement. */
export class PeerStats {
  outboundUp = 0;
  inboundUp = 0;
  outboundAllUpAt: number | null = null;
  outboundUpAtSinceMark: number[] = [];
  inboundPeersSinceMark = new Set<string>();
  inboundAllSinceMarkAt: number | null = null;
  failures: Record<string, number> = {};
  pingsSent = 0;
  pongsReceived = 0;
  pingsAnswered = 0;

  /** `total`: the helper's peers. */
  constructor(readonly total: number) {}

  mark(): void {
    this.outboundUpAtSinceMark = [];
    this.inboundPeersSinceMark = new Set();
    this.inboundAllSinceMarkAt = null;
    this.failures = {};
    this.pingsSent = 0;
    this.pongsReceived = 0;
    this.pingsAnswered = 0;
  }

  outboundCameUp(now: number): void {
    this.outboundUpAtSinceMark.push(now);
    if (++this.outboundUp === this.total) this.outboundAllUpAt = now;
  }

  outboundWentDown(): void {
    this.outboundUp--;
    this.outboundAllUpAt = null;
  }

  outboundFailed(cause: string): void {
    this.failures[cause] = (this.failures[cause] ?? 0) + 1;
  }

  /** The daemon completed a handshake with `peer` (its link to it, or its announcement). */
  inboundCameUp(peer: string): void {
    this.inboundUp++;
    if (this.inboundPeersSinceMark.has(peer)) return;
    this.inboundPeersSinceMark.add(peer);
    if (this.inboundPeersSinceMark.size === this.total) this.inboundAllSinceMarkAt = Date.now();
  }

  report(states: Record<string, number>): HelperCounts {
    return {
      ev: 'counts',
      peers: this.total,
      outboundUp: this.outboundUp,
      inboundUp: this.inboundUp,
      outboundAllUpAt: this.outboundAllUpAt,
      outboundUpAtSinceMark: this.outboundUpAtSinceMark,
      inboundPeersSinceMark: this.inboundPeersSinceMark.size,
      inboundAllSinceMarkAt: this.inboundAllSinceMarkAt,
      failures: this.failures,
      pingsSent: this.pingsSent,
      pongsReceived: this.pongsReceived,
      pingsAnswered: this.pingsAnswered,
      states,
    };
  }
}
