/**
 * The classic line prefixes, parsed in one place: `sethost:<lonid>:` picks
 * which of the machine's ids is addressed, `encrypt:` marks a line that
 * carries a secret (every byte between peers is encrypted anyway).
 */
export interface Prefixed {
  /** The id of a `sethost:<id>:` prefix, if any (the last one wins). */
  readonly sethost: string | undefined;
  /** The line was marked `encrypt:`. */
  readonly encrypted: boolean;
  /** The command without its prefixes. */
  readonly rest: string;
}

export function splitPrefixes(line: string): Prefixed {
  let sethost: string | undefined;
  let encrypted = false;
  let rest = line;
  for (;;) {
    if (rest.startsWith('encrypt:')) {
      encrypted = true;
      rest = rest.slice('encrypt:'.length);
      continue;
    }
    if (rest.startsWith('sethost:')) {
      const colon = rest.indexOf(':', 'sethost:'.length);
      if (colon < 0) break; // bare `sethost:<id>` is a command of its own
      sethost = rest.slice('sethost:'.length, colon);
      rest = rest.slice(colon + 1);
      continue;
    }
    return { sethost, encrypted, rest };
  }
  return { sethost, encrypted, rest };
}
