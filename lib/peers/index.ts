export { nextDelayMs, type BackoffPolicy } from './backoff';
export { type LinkState, LINK_EDGES } from './link-state';
export { PeerLink, type LinkOptions, type LinkStatus, type LinkTiming, type SendOptions } from './link';
export { PeerListener, type Executor, type InboundRequest, type ListenerOptions } from './listener';
export { PeerTable, type LinkFactory } from './table';
export { announceTo } from './announce';
export { RefusalLog } from './refusal-log';
export { type LivenessTiming } from './liveness';
export { HandshakePacer, DEFAULT_PACER, type PacerPolicy } from './handshake-pacer';
