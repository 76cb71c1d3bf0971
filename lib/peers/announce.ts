/**
 * The start-up announcement: a daemon that starts tells its peers that it is
 * back, so that one holding a backlog for it (or a link marked dead) retries
 * at once instead of at its backoff ceiling. Announcing to a peer is opening
 * our link to it once (PeerLink.announce): the peer's listener sees us
 * complete a handshake — proof of our key, not a spoofable packet — and
 * revives its own link to us. Links nobody needs close again at once.
 *
 * The peers are announced to in random order, ANNOUNCE_PER_TICK every
 * ANNOUNCE_TICK_MS after a random first delay: 1,000 hosts take ten seconds
 * of a few handshakes per tick, and the hosts of a network that restart
 * together do not all knock at the same moment.
 */
import type { PeerLink } from './link';

export const ANNOUNCE_TICK_MS = 50;
export const ANNOUNCE_PER_TICK = 5;
const FIRST_DELAY_MAX_MS = 100;

/** Start announcing to `links`; returns a function that stops it (shutdown). */
export function announceTo(links: readonly PeerLink[], random: () => number = Math.random): () => void {
  const order = [...links];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    for (const end = Math.min(order.length, next + ANNOUNCE_PER_TICK); next < end; next++) order[next]!.announce();
    timer = next < order.length ? setTimeout(tick, ANNOUNCE_TICK_MS) : undefined;
  };
  if (order.length > 0) timer = setTimeout(tick, Math.floor(random() * FIRST_DELAY_MAX_MS));
  return () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
}
