/**
 * Reconnect delay: exponential from a floor to a ceiling, with jitter so that
 * the servers of a network that lost the same peer do not all knock at once
 * when it returns. Pure, so it is tested directly.
 */
export interface BackoffPolicy {
  /** Delay before the first retry, ms. */
  readonly floorMs: number;
  /** Longest delay between retries, ms; also the retry period of a dead peer. */
  readonly ceilingMs: number;
}

/**
 * `attempt` counts failures since the last completed handshake, from 0.
 * The delay lies between the attempt's base (floor × 2^attempt, at most the
 * ceiling) and twice that ("equal jitter" above the base, never under the
 * floor), so even the first retries of many links that broke at the same
 * moment — a peer restarted under 1,000 links — are spread over a floor's
 * length instead of all landing one floor later.
 */
export function nextDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.ceilingMs, policy.floorMs * 2 ** Math.min(attempt, 30));
  return Math.min(policy.ceilingMs, Math.round(base + random() * base));
}
