export { LineSplitter, LineWriter } from './lines';
export * from './mux-protocol';
export { MuxSocketServer } from './mux-socket';
export { ClassicSockets } from './classic-socket';
export { InFlight } from './in-flight';
export type { RouteFn, RouteOptions } from './route';
