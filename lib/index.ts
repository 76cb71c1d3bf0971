/**
 * loncapad's public API for local programs: the client library and its
 * types. Nothing of the daemon's internals is exported here.
 */
export {
  connect,
  LoncapadClient,
  DEFAULT_CRITICAL_TIMEOUT_MS,
  DEFAULT_REPLY_TIMEOUT_MS,
  type CallOptions,
  type ConnectOptions,
} from './client/connection';
export { LoncapadError, type ErrorCode } from './errors';
