/**
 * Waiting on conditions across processes: poll until `fn` returns a truthy
 * value or the deadline passes (nats-server's checkFor). Never a fixed sleep.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, everyMs = 20 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Run `round` again and again, each after the last one ended, until `work`
 * has settled (at least once): what other clients saw while it ran.
 */
export async function roundsWhile<T>(work: Promise<unknown>, round: () => Promise<T>): Promise<T[]> {
  let finished = false;
  const settled = work.then(
    () => (finished = true),
    () => (finished = true),
  );
  const results: T[] = [];
  do results.push(await round());
  while (!finished);
  await settled;
  return results;
}
