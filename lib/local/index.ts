export { LineSplitter, LineWriter } from './lines';
export * from './mux-protocol';
export { MuxSocketServer } from './mux-socket';
export { ClassicSockets } from './classic-socket';
export { InFlight } from './in-flight';
export type { RouteFn, RouteOptions } from './route';
export { InputBudget, LineConnection, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './line-connection';
