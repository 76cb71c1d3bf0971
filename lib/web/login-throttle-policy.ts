/**
 * When may the next login attempt of one key (a source address, or one
 * account tried from one address) be checked? Pure, like peers/backoff.ts,
 * so it is tested directly; `LoginThrottle` owns the records.
 *
 * A key's failures drain away at a steady rate (a leaky bucket): `maxFailures`
 * of them drain in `lockoutMs`. A key quiet for one lockout is forgotten, and
 * a trickle below that rate (a lab of students behind one address, mistyping
 * now and then) never adds up to a refusal, as a fixed window would.
 *
 *   after a failure, with n failures counted (drained):
 *     n ≥ maxFailures   → refused for lockoutMs from this failure
 *     n ≥ 2             → the next attempt waits delayMs · 2^(n−2) (at most lockoutMs)
 *     n = 1             → no wait: the first failure is a typo
 *   at an attempt:
 *     still waiting     → refused; the wait is the Retry-After
 *     counted + in flight ≥ maxFailures → refused: the attempts in flight
 *                         may use up what is left (a flood of concurrent
 *                         guesses is cut at maxFailures, not after it)
 *     otherwise         → checked (and counted in flight until it ends)
 *
 * Refused attempts change nothing, so hammering does not prolong a refusal:
 * it ends lockoutMs after the last failure that was actually checked.
 */

export interface ThrottleLimits {
  /** Failures that make the key refused for `lockoutMs`; also the drain rate (this many per lockoutMs). */
  readonly maxFailures: number;
  readonly lockoutMs: number;
  /** The wait after a second failure, ms; doubles with each further failure. 0: no waits. */
  readonly delayMs: number;
  /** A passed check clears the key (the account's own owner, who knows her password). */
  readonly clearOnPass: boolean;
}

export interface ThrottleRecord {
  /** Failures counted at `atMs` (fractional once draining). */
  readonly failures: number;
  readonly atMs: number;
  /** No attempt is checked before this time (a wait or a refusal). */
  readonly notBeforeMs: number;
  /** Attempts checked and not yet answered. */
  readonly inFlight: number;
}

export type CheckOutcome = 'failed' | 'passed' | 'unknown';

/** The failures still counted at `nowMs`, fractional while one drains. */
export function failuresAt(rec: ThrottleRecord, nowMs: number, limits: ThrottleLimits): number {
  const drained = ((nowMs - rec.atMs) * limits.maxFailures) / limits.lockoutMs;
  return Math.max(0, rec.failures - Math.max(0, drained));
}

/** A failure counts whole until it has drained completely. */
function whole(failures: number): number {
  return Math.ceil(failures - 1e-9);
}

/** The wait imposed after the `failures`-th counted failure (below the refusal). */
export function delayAfterMs(failures: number, limits: ThrottleLimits): number {
  if (limits.delayMs === 0 || failures < 2) return 0;
  return Math.min(limits.lockoutMs, limits.delayMs * 2 ** Math.min(failures - 2, 30));
}

/** How long an attempt at `nowMs` must wait before it may be checked; 0: check it now. */
export function waitMs(rec: ThrottleRecord | undefined, nowMs: number, limits: ThrottleLimits): number {
  if (rec === undefined) return 0;
  if (rec.notBeforeMs > nowMs) return rec.notBeforeMs - nowMs;
  if (whole(failuresAt(rec, nowMs, limits)) + rec.inFlight >= limits.maxFailures) {
    // The rest of the budget is in flight; one failure drains in this long.
    return Math.ceil(limits.lockoutMs / limits.maxFailures);
  }
  return 0;
}

/** The record once an attempt is admitted for checking. */
export function withStarted(rec: ThrottleRecord | undefined, nowMs: number, limits: ThrottleLimits): ThrottleRecord {
  if (rec === undefined) return { failures: 0, atMs: nowMs, notBeforeMs: 0, inFlight: 1 };
  return { failures: failuresAt(rec, nowMs, limits), atMs: nowMs, notBeforeMs: rec.notBeforeMs, inFlight: rec.inFlight + 1 };
}

/**
 * The record once a check has ended; undefined when nothing is left to
 * remember. `unknown` (the home server could not answer) counts for nothing.
 */
export function withFinished(
  rec: ThrottleRecord | undefined,
  nowMs: number,
  outcome: CheckOutcome,
  limits: ThrottleLimits,
): ThrottleRecord | undefined {
  const inFlight = Math.max(0, (rec?.inFlight ?? 1) - 1);
  if (outcome === 'passed' && limits.clearOnPass) {
    return inFlight === 0 ? undefined : { failures: 0, atMs: nowMs, notBeforeMs: 0, inFlight };
  }
  const counted = rec === undefined ? 0 : failuresAt(rec, nowMs, limits);
  if (outcome !== 'failed') {
    const kept: ThrottleRecord = { failures: counted, atMs: nowMs, notBeforeMs: rec?.notBeforeMs ?? 0, inFlight };
    return isSpent(kept, nowMs, limits) ? undefined : kept;
  }
  const failures = counted + 1;
  const notBeforeMs = whole(failures) >= limits.maxFailures ? nowMs + limits.lockoutMs : nowMs + delayAfterMs(whole(failures), limits);
  return { failures, atMs: nowMs, notBeforeMs: Math.max(notBeforeMs, rec?.notBeforeMs ?? 0), inFlight };
}

/** Nothing left to remember: no failure counted, no wait, nothing in flight. */
export function isSpent(rec: ThrottleRecord, nowMs: number, limits: ThrottleLimits): boolean {
  return rec.inFlight === 0 && rec.notBeforeMs <= nowMs && whole(failuresAt(rec, nowMs, limits)) === 0;
}
