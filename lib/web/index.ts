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
export type { RequestEnv, PageHandler, WebAuth, WebLog, ServerInfo, HttpMethod, UserProfile } from './request-env';
export type { ServerAbout, StatusReport, StatusPageData, PeerLinkReport, SpoolReport, ProblemReport } from './server-report';
export type { PackageInit, PackageInitApi } from './init-modules';
export { renderPage, sendPage, type PageContent } from './page-layout';
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
export { serveStatic } from './static-file';
export { BodyCache } from './body-cache';
export { sendStatus, sendRedirect } from './responses';
export { sendListing, sendNamesListing } from './directory-listing';
export { encodePath, withQuery } from './normalize-url';
export { LOG_IN_HERE, sendOverloaded, type LoginGrant, type LoginOffload, type LoginPlacement } from './login-offload';
export { prepareWebTables } from './schema';
