/** Small types shared by the store's tables. */

export interface UserRef {
  readonly domain: string;
  readonly name: string;
}

/** Milliseconds since the epoch; injected so tests can move time. */
export type Clock = () => number;

/** An escaped key and its escaped value, as stored. */
export type Pair = readonly [key: string, value: string];

/** `k=v&k=v`, the classic wire and history form of a list of pairs. */
export function joinPairs(pairs: readonly Pair[]): string {
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}
