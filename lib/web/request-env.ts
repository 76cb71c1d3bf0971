/**
 * The request environment handed to every page, `.vuh`, registered handler
 * and filter: the `ad_conn` of the OpenACS design, as a typed object.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badArgs } from '../errors';
import type { LoginGate, PasswordCheck } from './login-gate';
import { urlSegments, type NormalizedTarget } from './normalize-url';
import { userParty } from './permissions';
import type { ServerAbout, StatusPageData } from './server-report';
import type { AuthLevel, Session, SessionManager } from './sessions';
import type { SiteNode } from './site-node-table';
import type { AcceptedLogin, WebAuth, WebLog } from './web-auth';

export type { UserProfile, WebAuth, WebLog } from './web-auth';

export type HttpMethod = 'GET' | 'HEAD' | 'POST';

/** A page module, `.vuh` module or registered handler. It must end the response. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, env: RequestEnv) => unknown;

export interface ServerInfo {
  /** When the web server started (ms since the epoch). */
  readonly startedAt: number;
  /** Logged-in sessions seen within the activity window. */
  activeSessions(): number;
  /** Who this server is, and the domains of its network. */
  about(): ServerAbout;
  /** Everything the status page shows (that package is for admins only). */
  status(): StatusPageData;
}

export interface RequestEnv {
  readonly method: HttpMethod;
  /** Decoded, normalised path; a trailing '/' is kept. */
  readonly url: string;
  /** The path's segments ('/' → []). */
  readonly urlv: readonly string[];
  /** Raw query string without '?'. */
  readonly query: string;
  /** Absolute path of the page or file being served ('' for registered handlers). */
  readonly file: string;
  /** Requests since the server started, this one included. */
  readonly requestCount: number;
  /** When processing of this request began (ms since the epoch). */
  readonly startTime: number;
  /** 0 for anonymous visitors. */
  readonly sessionId: number;
  /** `<user>:<domain>`, or null for anonymous visitors. */
  readonly userId: string | null;
  readonly authLevel: AuthLevel;
  /** One instance per site node, so the package id is the node id. */
  readonly packageId: number;
  readonly packageKey: string;
  /** The mount URL, ending in '/'. */
  readonly packageUrl: string;
  /** The URL below the mount, without a leading '/'. */
  readonly extraUrl: string;
  /** What a `.vuh` or registered handler did not match: `x` for `dir/index.vuh`, `/x` for `name.vuh`. */
  readonly pathInfo: string;
  /** `pathInfo` split into its non-empty segments. */
  readonly pathInfoSegments: readonly string[];
  readonly nodeId: number;
  readonly instanceName: string;
  /** The request says it came from script (X-Requested-With: XMLHttpRequest). */
  readonly xhr: boolean;
  /** The client's IP address (the TCP peer: a proxy in front of us is the client here). */
  readonly clientAddress: string;
  /** Unthrottled: pages that check passwords use `checkPassword`. */
  readonly auth: WebAuth;
  readonly server: ServerInfo;
  /** The daemon's log. Never pass it passwords or query strings. */
  readonly log: WebLog;
  /**
   * Check a password at the user's home server, throttled per source address
   * and per account from that address (login-throttle.ts); failures are logged.
   */
  checkPassword(user: string, domain: string, password: string): Promise<PasswordCheck>;
  /** Start a new session for a user whose password passed `checkPassword`: sets the cookie on `res`. */
  login(res: ServerResponse, accepted: AcceptedLogin): void;
  /** End the current session: revokes it and clears the cookie on `res`. */
  logout(res: ServerResponse): void;
}

/** What every environment of one server shares. */
export interface EnvServices {
  readonly sessions: SessionManager;
  readonly auth: WebAuth;
  readonly logins: LoginGate;
  readonly log: WebLog;
  readonly server: ServerInfo;
}

/** What the processor knows about a request once it is authorised. */
export interface EnvInit {
  readonly method: HttpMethod;
  readonly target: NormalizedTarget;
  readonly requestCount: number;
  readonly startTime: number;
  readonly node: SiteNode;
  readonly extraUrl: string;
  readonly session: Session;
  readonly xhr: boolean;
  readonly clientAddress: string;
}

export class RequestEnvironment implements RequestEnv {
  readonly method: HttpMethod;
  readonly url: string;
  readonly query: string;
  readonly requestCount: number;
  readonly startTime: number;
  readonly sessionId: number;
  readonly userId: string | null;
  readonly authLevel: AuthLevel;
  readonly packageId: number;
  readonly packageKey: string;
  readonly packageUrl: string;
  readonly extraUrl: string;
  readonly nodeId: number;
  readonly instanceName: string;
  readonly xhr: boolean;
  readonly clientAddress: string;
  file = '';
  pathInfo = '';
  readonly #services: EnvServices;
  /** The session as changed by login/logout within this request (the fields above keep the request's start). */
  #session: Session;
  #urlv: readonly string[] | undefined;
  #pathInfoSegments: readonly string[] | undefined;

  constructor(init: EnvInit, services: EnvServices) {
    const { target, node, session } = init;
    this.method = init.method;
    this.url = target.url;
    this.query = target.query;
    this.requestCount = init.requestCount;
    this.startTime = init.startTime;
    this.sessionId = session.sessionId;
    this.userId = session.userId;
    this.authLevel = session.authLevel;
    this.packageId = node.nodeId;
    this.nodeId = node.nodeId;
    this.packageKey = node.packageKey;
    this.packageUrl = node.url;
    this.extraUrl = init.extraUrl;
    this.instanceName = node.instanceName;
    this.xhr = init.xhr;
    this.clientAddress = init.clientAddress;
    this.#session = session;
    this.#services = services;
  }

  /** The path's segments, split the first time a page asks. */
  get urlv(): readonly string[] {
    return (this.#urlv ??= urlSegments(this.url));
  }

  get auth(): WebAuth {
    return this.#services.auth;
  }

  get server(): ServerInfo {
    return this.#services.server;
  }

  get log(): WebLog {
    return this.#services.log;
  }

  /** Point the environment at what is about to run. */
  target(file: string, pathInfo: string): void {
    this.file = file;
    this.pathInfo = pathInfo;
    this.#pathInfoSegments = undefined;
  }

  /** The path info's non-empty segments, split the first time a page asks. */
  get pathInfoSegments(): readonly string[] {
    return (this.#pathInfoSegments ??= this.pathInfo.split('/').filter((s) => s !== ''));
  }

  checkPassword(user: string, domain: string, password: string): Promise<PasswordCheck> {
    return this.#services.logins.check(user, domain, password, this.clientAddress);
  }

  login(res: ServerResponse, accepted: AcceptedLogin): void {
    const userId = userParty(accepted.user, accepted.domain);
    if (userId === undefined) throw badArgs('bad user or domain name');
    const outcome = this.#services.sessions.login(this.#session, userId, accepted.authToken, Date.now());
    this.#session = outcome.session;
    res.setHeader('Set-Cookie', outcome.setCookie);
    this.#services.log('info', `web login ${userId} session ${outcome.session.sessionId} from ${this.clientAddress}`);
  }

  logout(res: ServerResponse): void {
    const ended = this.#session;
    const outcome = this.#services.sessions.logout(ended, Date.now());
    this.#session = outcome.session;
    res.setHeader('Set-Cookie', outcome.setCookie);
    if (ended.userId !== null) this.#services.log('info', `web logout ${ended.userId} session ${ended.sessionId}`);
  }
}
