/**
 * Liveness deadlines of a peer connection, in every state, as pure policy
 * (tested directly; the link and the inbound session each own one clock and
 * act on what these functions say).
 *
 *   outbound, up:  silent ≥ ping interval      → send a keep-alive
 *                  silent ≥ interval + timeout → drop (the peer hung)
 *                  unused ≥ idle timeout       → close gracefully
 *   inbound, up:   silent ≥ 2 × interval + timeout with nothing of ours in
 *                  progress → drop (a healthy initiator pings every interval)
 *   both:          a frame begun and not finished within 3 × ping timeout
 *                  → drop (a peer may not park partial frames);
 *                  a graceful close not finished within the ping timeout
 *                  → destroy (a hung peer never sends its FIN).
 * Connecting and handshaking have their own deadlines (connect timeout,
 * HANDSHAKE_TIMEOUT_MS).
 */
export interface LivenessTiming {
  /** Ping a link that has been silent this long, ms. */
  readonly pingIntervalMs: number;
  /** A ping unanswered this long ends the link, ms. */
  readonly pingTimeoutMs: number;
  /** Close an outbound link with nothing to do for this long, ms. */
  readonly idleTimeoutMs: number;
}

/** What the connection's owner should do now. */
export type LivenessAction = 'none' | 'ping' | 'drop-silent' | 'drop-stalled-frame' | 'close-idle' | 'destroy-closing';

export interface ConnectionClock {
  readonly now: number;
  /** Last byte received. */
  readonly lastRecvAt: number;
  /** When the partial frame now buffered began, or undefined. */
  readonly partialSince: number | undefined;
  /** When a graceful close began, or undefined. */
  readonly closingSince: number | undefined;
}

export interface OutboundClock extends ConnectionClock {
  /** Keep-alive sent and not yet answered. */
  readonly pingOutstanding: boolean;
  /** Last request handed to the link. */
  readonly lastUseAt: number;
  /** Requests in flight or waiting, or a backlog to send. */
  readonly busy: boolean;
}

export interface InboundClock extends ConnectionClock {
  /** Requests of the peer still being run or answered here. */
  readonly busy: boolean;
}

/** How often an owner checks its clock, ms. */
export function checkEveryMs(t: LivenessTiming): number {
  return Math.max(5, Math.min(t.pingIntervalMs, t.idleTimeoutMs) / 4);
}

export function frameTimeoutMs(t: LivenessTiming): number {
  return 3 * t.pingTimeoutMs;
}

export function inboundSilenceMs(t: LivenessTiming): number {
  return 2 * t.pingIntervalMs + t.pingTimeoutMs;
}

function common(t: LivenessTiming, c: ConnectionClock): LivenessAction {
  if (c.closingSince !== undefined) return c.now - c.closingSince >= t.pingTimeoutMs ? 'destroy-closing' : 'none';
  if (c.partialSince !== undefined && c.now - c.partialSince >= frameTimeoutMs(t)) return 'drop-stalled-frame';
  return 'none';
}

export function checkOutbound(t: LivenessTiming, c: OutboundClock): LivenessAction {
  const first = common(t, c);
  if (first !== 'none' || c.closingSince !== undefined) return first;
  const silent = c.now - c.lastRecvAt;
  if (silent >= t.pingIntervalMs + t.pingTimeoutMs) return 'drop-silent';
  if (!c.busy && c.now - c.lastUseAt >= t.idleTimeoutMs) return 'close-idle';
  if (silent >= t.pingIntervalMs && !c.pingOutstanding) return 'ping';
  return 'none';
}

export function checkInbound(t: LivenessTiming, c: InboundClock): LivenessAction {
  const first = common(t, c);
  if (first !== 'none' || c.closingSince !== undefined) return first;
  if (!c.busy && c.now - c.lastRecvAt >= inboundSilenceMs(t)) return 'drop-silent';
  return 'none';
}
