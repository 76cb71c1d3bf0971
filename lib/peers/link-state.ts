/**
 * The outbound link's states and the only edges between them.
 *
 *   idle ──demand──▶ connecting ──tcp up──▶ handshaking ──ok──▶ up
 *     ▲                 │                      │                 │
 *     │                 └──────fail────────────┴──▶ backoff ◀────┘ lost (with demand)
 *     │                                              │   │
 *     └──────── idle timeout / lost without demand ──┘   └─ repeated failures ─▶ dead
 *                                                          dead ──retry──▶ connecting
 */
export type LinkState = 'idle' | 'connecting' | 'handshaking' | 'up' | 'backoff' | 'dead';

export const LINK_EDGES: Readonly<Record<LinkState, readonly LinkState[]>> = {
  idle: ['connecting', 'idle'],
  connecting: ['handshaking', 'backoff', 'dead', 'idle'],
  handshaking: ['up', 'backoff', 'dead', 'idle'],
  up: ['backoff', 'idle'],
  backoff: ['connecting', 'idle', 'dead'],
  dead: ['connecting', 'idle'],
};
