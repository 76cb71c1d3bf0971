/**
 * The web request processor (issue 4): what the daemon and page authors use.
 * See docs/web.md.
 */
export {
  WebServer,
  DEFAULT_EXTENSION_PRECEDENCE,
  DEFAULT_LOGIN_URL,
  type WebServerOptions,
  type WebObserver,
} from './web-server';
export type { SiteMap, MountOptions, SiteNodeListing } from './site-map';
export type { SiteNode } from './site-node-table';
export { partiesOf, type Privilege } from './permissions';
export type { RequestEnv, PageHandler, WebAuth, WebLog, ServerInfo, HttpMethod } from './request-env';
export type { AuthLevel } from './sessions';
export type { Filter, FilterResult, FilterStage } from './filters';
export type { HandlerOptions } from './handlers';
export { runSiteOp } from './site-ops';
export { networkAuth } from './network-auth';
export type { AcceptedLogin, PasswordCheck } from './login-gate';
export { DEFAULT_LOGIN_THROTTLE, type LoginThrottleSettings } from './login-throttle';
export { readFormBody, type FormBody } from './form-body';
export { escapeHtml } from './html';
export { safeReturnUrl } from './return-url';
