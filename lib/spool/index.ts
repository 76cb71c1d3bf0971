export { Spool, type SpoolRow, type ReplayRow, type AsideRow, type AsideReason, type SpoolObserver } from './spool';
export { Outbox, type OutboxLink, type OutboxOptions } from './outbox';
export { Replayer, REPLAY_BATCH_ROWS, REPLAY_WINDOW } from './replay';
export { runSpoolOp, SPOOL_OPS, type PeerStats } from './admin';
export { SpoolSummary, type SpoolPeerSummary } from './summary';
