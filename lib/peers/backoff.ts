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

/** `attempt` counts failures since the last completed handshake, from 0. */
export function nextDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.ceilingMs, policy.floorMs * 2 ** Math.min(attempt, 30));
  // "Equal jitter": keep half, randomise half, never under the floor.
  const delay = exp / 2 + random() * (exp / 2);
  return Math.max(policy.floorMs, Math.min(policy.ceilingMs, Math.round(delay)));
}
