/**
 * loncapad's public API for local programs: the client library and its
 * types. Nothing of the daemon's internals is exported here.
 */
export {
  connect,
  LoncapadClient,
  type CallOptions,
  type ConnectOptions,
} from './client/connection';
export { LoncapadError, type ErrorCode, isTransientReply, isRefusal } from './errors';
export { MAX_TIMEOUT_MS, type Greeting } from './local/mux-protocol';
export {
  Lonnet,
  LonnetError,
  homeServer,
  forgetHomeServer,
  spareServer,
  NO_HOST,
  type Transport,
  type LonnetErrorCode,
  type Values,
  type WriteAck,
  type WriteOptions,
  type DumpOptions,
  type RestoredRecord,
  type RecordVersion,
  type AuthInfo,
  type AuthMode,
  type ListedFile,
  type HostInfo,
  type HomeServerOptions,
  type SpareServerOptions,
} from './client/lonnet';
export { escape, unescape } from './client/escape';
