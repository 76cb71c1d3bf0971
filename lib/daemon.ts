/**
 * The composition root: builds every part, wires their events, and owns
 * start, reload (SIGHUP), retry (SIGUSR1) and stop (SIGTERM/SIGINT). The only
 * file that knows every part.
 *
 * Start, in order: config → pid lock → keys → hosts table → databases →
 * command table → peer links → inbound listener → local sockets → metrics
 * (counted through the parts' hooks, served at /metrics) → replay of any
 * backlog. Synchronous file work happens only here, before listen().
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { adminCommands } from './commands/admin';
import { watchAuthChanges } from './commands/auth';
import { AuthGuard } from './commands/auth-guard';
import type { DaemonServices } from './commands/context';
import { coreCommands } from './commands/core';
import { Dispatcher } from './commands/dispatch';
import { LocalGroupCommit } from './commands/local-group-commit';
import { CommandTable } from './commands/table';
import { classicCommands } from './commands/catalogue';
import {
  hostsOf,
  installHostsTable,
  keysDir,
  listenError,
  loadConfig,
  loadOrCreateKeys,
  publicKeyBase64,
  selfIn,
  type Config,
  type HostEntry,
  type HostsTable,
} from './config';
import { LoncapadError } from './errors';
import { createLogger, type Logger } from './log';
import { ClassicSockets, InFlight, InputBudget, MuxSocketServer, type RouteFn } from './local';
import { DaemonMetrics, metricsPage, rootAdmins } from './metrics';
import { announceTo, checkEveryMs, HandshakePacer, LivenessClock, PeerLink, PeerListener, PeerTable, RefusalLog } from './peers';
import { acquirePidLock } from './pid-lock';
import { readSpares, Replication, replicationCommands, type Spares } from './replication';
import { RecentErrors } from './recent-errors';
import { daemonTitle } from './process-title';
import { Router } from './router';
import { Outbox, runSpoolOp, Spool, SpoolSummary } from './spool';
import { UserStore } from './store/user-store';
import { syncTotals, type SyncedDatabase, type SyncTotals } from './store/wal-sync';
import type { Transport } from './client/lonnet';
import { networkAuth, runSiteOp, WebServer, type PeerLinkReport, type ServerAbout, type StatusReport } from './web';
import type { StaticKeys } from './wire';

const VERSION: string = (require('../../package.json') as { version: string }).version;

/** How long stop() waits for local requests to be answered or spooled, ms. */
const SHUTDOWN_GRACE_MS = 5_000;
/** How often expired spool rows are set aside and old applied ids pruned, ms. */
const HOUSEKEEPING_INTERVAL_MS = 60_000;
/** Applied ids are kept this much longer than a spooled message can live. */
const APPLIED_ID_MARGIN_MS = 86_400_000;
/** Sessions seen within this window count towards `userload` (classic: 30 minutes). */
const USER_LOAD_WINDOW_MS = 30 * 60_000;

export interface DaemonStatus {
  readonly hostId: string;
  /** Every listener is up (the moment `ready` is printed); false while the daemon is still starting. */
  readonly ready: boolean;
  readonly ip: string;
  readonly port: number;
  /** The web processor's port, or null without one. */
  readonly httpPort: number | null;
  readonly pid: number;
  readonly version: string;
  readonly uptimeMs: number;
  readonly spooled: number;
  /** The fdatasyncs that made commits durable since the start, and their time in all (seconds), per database. */
  readonly walSyncs: Readonly<Record<SyncedDatabase, SyncTotals>>;
  /** One entry per peer link, as the status page shows them too. */
  readonly peers: readonly PeerLinkReport[];
}

export class Daemon {
  readonly log: Logger;
  readonly #args: readonly string[];
  #config: Config;
  #hosts: HostsTable;
  #self: HostEntry;
  #ownIds: string[];
  readonly #keys: StaticKeys;
  readonly #releaseLock: () => void;
  readonly #startedAt = Date.now();
  readonly store: UserStore;
  readonly spool: Spool;
  readonly #dispatcher: Dispatcher;
  readonly #authGuard: AuthGuard;
  readonly #peers: PeerTable;
  readonly #outbox: Outbox;
  readonly #listener: PeerListener;
  readonly #router: Router;
  /** The router's route, telling the web server of password changes that pass through (their sessions end). */
  readonly #route: RouteFn;
  readonly #inFlight = new InFlight();
  /** Outbound dialing slots and handshake crypto per loop turn, shared by every link and the listener. */
  readonly #handshakes = new HandshakePacer();
  /** Keep-alive and silence checks of every link that is up, on one timer. */
  readonly #livenessClock = new LivenessClock(() => checkEveryMs(this.#config));
  readonly #mux: MuxSocketServer;
  readonly #classic: ClassicSockets;
  readonly #web: WebServer | undefined;
  readonly #replication: Replication;
  /** Commands to peers (or to this host) through the router, for the parts that act as clients. */
  readonly #transport: Transport = {
    reply: (peer, command, opts) => this.#route(peer, command, { critical: false, timeoutMs: opts?.timeoutMs ?? 0 }),
    critical: (peer, command) => this.#route(peer, command, { critical: true, timeoutMs: 0 }),
  };
  /** The latest warnings and errors of the log, and the spool per peer, for the status page. */
  readonly #recentErrors: RecentErrors;
  readonly #spoolSummary: SpoolSummary;
  readonly #metrics: DaemonMetrics;
  #housekeeping: NodeJS.Timeout | undefined;
  #stopAnnouncing: (() => void) | undefined;
  #titleTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #ready = false;

  /** Build and start a daemon from `loncapad start` arguments. */
  static async start(args: readonly string[]): Promise<Daemon> {
    const config = loadConfig(args);
    const recent = new RecentErrors();
    const log = createLogger(config.logLevel, undefined, config.logFormat, (level, text, at) => recent.add(level, text, at));
    const d = new Daemon(args, config, log, recent);
    try {
      await d.#listen();
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  }

  private constructor(args: readonly string[], config: Config, log: Logger, recentErrors: RecentErrors) {
    this.#args = args;
    this.#config = config;
    this.log = log;
    this.#recentErrors = recentErrors;
    mkdirSync(config.spool, { recursive: true, mode: 0o750 });
    this.#releaseLock = acquirePidLock(config.spool);
    let spares: Spares;
    try {
      this.#keys = loadOrCreateKeys(config.spool);
      this.#hosts = this.#readHosts(config);
      this.#self = this.#checkSelf(this.#hosts, config);
      this.#ownIds = this.#hosts.idsAtIp(this.#self.ip);
      spares = readSpares(config.sparesFile, this.#hosts, this.#self.id);
      this.store = new UserStore(join(config.spool, 'data.sqlite'), { quotaBytes: () => this.#config.userQuotaBytes });
      this.spool = new Spool(join(config.spool, 'spool.sqlite'));
    } catch (err) {
      this.#releaseLock();
      throw err;
    }
    this.#authGuard = new AuthGuard({
      settings: () => ({
        perAccount: this.#config.authFailuresPerAccount,
        perHost: this.#config.authFailuresPerHost,
        windowMs: this.#config.authWindowMs,
        failureDelayMs: this.#config.authFailureDelayMs,
      }),
      logRepeatMs: () => this.#config.logRepeatMs,
      warn: (line) => log.warn(line),
    });
    this.#replication = new Replication({
      db: this.store.db,
      root: join(config.spool, 'res'),
      log,
      selfId: () => this.#self.id,
      hosts: () => this.#hosts,
      livesHere: (domain, name) => this.store.users.exists({ domain, name }),
      transport: this.#transport,
      settings: () => this.#config,
      activeSessions: () => this.#web?.activeSessions() ?? 0,
      directoryListings: false,
    });
    this.#replication.setSpares(spares);
    this.#spoolSummary = new SpoolSummary(this.spool);
    const table = new CommandTable().register(
      ...coreCommands,
      ...classicCommands,
      ...adminCommands,
      ...replicationCommands(this.#replication),
    );
    this.#dispatcher = new Dispatcher(table, this.#services(), log);
    this.#peers = new PeerTable((peer) => this.#makeLink(peer));
    this.#metrics = new DaemonMetrics({
      version: VERSION,
      selfId: () => this.#self.id,
      isHost: (id) => this.#hosts.has(id),
      isCommand: (word) => table.get(word) !== undefined,
      links: () => this.#peers.all().map((l) => ({ peer: l.peer.id, state: l.state })),
      spoolDepth: (peer) => this.spool.depth(peer),
      spoolOldest: (peer) => this.spool.oldest(peer),
    });
    this.#peers.on('state', this.#metrics.linkStateChanged);
    this.spool.observer = this.#metrics.spool;
    this.spool.walSync.observe(this.#metrics.walSynced('spool'));
    this.store.walSync.observe(this.#metrics.walSynced('store'));
    this.#outbox = new Outbox({
      spool: this.spool,
      link: (id) => this.#peers.get(id),
      isSecret: (line) => this.#dispatcher.isSecret(line),
      replayTimeoutMs: config.criticalTimeoutMs,
      lifetimeMs: config.spoolLifetimeMs,
      log,
      logRepeatMs: () => this.#config.logRepeatMs,
    });
    this.#peers.on('up', (id) => this.#outbox.linkUp(id));
    this.#peers.reconcile(this.#hosts, this.#ownIds);
    this.#listener = new PeerListener({
      ip: this.#self.ip,
      port: config.port,
      keys: this.#keys,
      hosts: () => this.#hosts,
      ownIds: () => this.#ownIds,
      executor: {
        executeBatch: (caller, served, requests, replyRoom) =>
          this.#dispatcher.runBatch(
            requests.map((r) => ({
              command: this.#dispatcher.parse(r.command),
              inv: {
                caller: caller.id,
                callerRole: caller.role,
                local: false,
                manager: this.#config.managers.includes(caller.id),
                served,
                msgid: r.msgid,
                replyRoom,
              },
            })),
          ),
      },
      log,
      refusals: new RefusalLog(log),
      pacer: this.#handshakes,
      timing: config,
      onPeerConnected: (id) => {
        if (this.#peers.get(id)?.peerIsBack()) log.info(`retrying ${id}: it connected to us`);
      },
    });
    this.#router = new Router({
      hostId: () => this.#self.id,
      role: () => this.#self.role,
      ownIds: () => this.#ownIds,
      hosts: () => this.#hosts,
      local: new LocalGroupCommit(this.#dispatcher, log),
      peers: this.#peers,
      outbox: this.#outbox,
      requestTimeoutMs: () => this.#config.requestTimeoutMs,
      criticalTimeoutMs: () => this.#config.criticalTimeoutMs,
      resetRetries: (peer) => this.retryDead(peer),
    });
    this.#route = watchAuthChanges(this.#metrics.timeRoute(this.#router.route), (userId) => this.#web?.authChanged(userId));
    this.store.users.onAuthChange((user) => this.#web?.authChanged(`${user.name}:${user.domain}`));
    const inputBudget = new InputBudget();
    this.#mux = new MuxSocketServer(join(config.spool, 'loncapad.sock'), this.#route, this.#inFlight, log, inputBudget, () => ({
      version: VERSION,
      replyTimeoutMs: this.#config.requestTimeoutMs,
      criticalTimeoutMs: this.#config.criticalTimeoutMs,
    }));
    this.#classic = new ClassicSockets(join(config.spool, 'sock'), this.#route, this.#inFlight, log, inputBudget);
    if (config.httpPort > 0) {
      this.#web = new WebServer({
        host: this.#self.ip,
        port: config.httpPort,
        db: this.store.db,
        siteDir: config.site,
        keysDir: keysDir(config.spool),
        auth: { ...networkAuth(this.#transport, () => this.#hosts), offload: this.#replication.balancer },
        log: (level, msg) => log[level](`web: ${msg}`),
        activeSessionWindowMs: USER_LOAD_WINDOW_MS,
        loginThrottle: {
          failuresPerAccount: config.loginFailuresPerAccount,
          failuresPerSource: config.loginFailuresPerIp,
          lockoutMs: config.loginLockoutMs,
          delayMs: config.loginDelayMs,
        },
        sessionCheckTtlMs: config.sessionCheckTtlMs,
        extensionPrecedence: config.webExtensions,
        directoryListings: config.webDirectoryListings,
        tls: config.tlsCert && config.tlsKey ? { certFile: config.tlsCert, keyFile: config.tlsKey } : undefined,
        httpRedirectPort: config.httpRedirectPort,
        about: () => this.#about(),
        statusReport: () => this.#statusReport(),
        observer: this.#metrics.web,
      });
      const pages = this.#replication.pages();
      this.#web.registerHandler('/res', pages.resource);
      this.#web.registerHandler('/raw', pages.raw);
      const metrics = this.#metrics;
      this.#web.registerHandler('/metrics', metricsPage({ render: () => metrics.render(), isAdmin: rootAdmins(this.#web.siteMap) }), { exact: true });
    }
  }

  get config(): Config {
    return this.#config;
  }

  async #listen(): Promise<void> {
    const ip = this.#self.ip;
    await this.#listener.listen().catch((err: unknown) => {
      throw listenError(err, '--port', ip, this.#config.port);
    });
    await this.#mux.listen();
    await this.#classic.sync(this.#hosts.all().map((h) => h.id));
    await this.#web?.start().catch((err: unknown) => {
      throw listenError(err, '--http-port', ip, this.#config.httpPort);
    });
    for (const peer of this.spool.peersWithBacklog()) this.#peers.get(peer)?.demand();
    this.#stopAnnouncing = announceTo(this.#peers.all());
    this.#housekeeping = setInterval(() => this.#expiredHousekeeping(), HOUSEKEEPING_INTERVAL_MS);
    this.#housekeeping.unref();
    this.#titleTimer = setInterval(() => this.#updateTitle(), 1_000);
    this.#titleTimer.unref();
    this.#updateTitle();
    this.#ready = true;
    this.log.info(
      `loncapad ${VERSION} ready: ${this.#self.id} on ${this.#self.ip}:${this.#config.port}` +
        (this.#web ? `, http ${this.#self.ip}:${this.#web.port}, ` : ', no web server, ') +
        `${this.#hosts.all().length} host(s), ${this.spool.totalDepth()} spooled message(s)`,
    );
  }

  // ---- signals ---------------------------------------------------------------

  /**
   * SIGHUP: re-read config and hosts table; links of unchanged peers stay up.
   * The web server reads its TLS files and runs its init modules again
   * whatever becomes of the rest (a renewed certificate must not wait for a
   * config file to be fixed).
   */
  async reload(): Promise<boolean> {
    await this.#web?.reload();
    let config: Config;
    let hosts: HostsTable;
    let spares: Spares;
    try {
      config = loadConfig(this.#args);
      hosts = this.#readHosts(config);
      const self = this.#checkSelf(hosts, config);
      spares = readSpares(config.sparesFile, hosts, self.id);
      if (self.id !== this.#self.id || self.ip !== this.#self.ip || config.port !== this.#config.port || config.spool !== this.#config.spool) {
        throw new LoncapadError('LC_ERR_CONFIG', 'own id, address, port or spool changed: restart the daemon for that');
      }
      this.#self = self;
    } catch (err) {
      this.log.error(`reload failed, keeping the running configuration: ${(err as Error).message}`);
      return false;
    }
    this.#config = config;
    this.#hosts = hosts;
    this.#replication.setSpares(spares);
    this.#ownIds = hosts.idsAtIp(this.#self.ip);
    const { added, removed, changed } = this.#peers.reconcile(hosts, this.#ownIds);
    const gone = new Set([...removed, ...changed]);
    for (const id of gone) this.#outbox.forget(id);
    this.#listener.closeIf((id) => gone.has(id), 'host-changed');
    await this.#classic.sync(hosts.all().map((h) => h.id));
    for (const peer of this.spool.peersWithBacklog()) this.#peers.get(peer)?.demand();
    this.log.info(
      `reloaded: ${hosts.all().length} host(s); added [${added.join(' ')}], removed [${removed.join(' ')}], changed [${changed.join(' ')}]`,
    );
    return true;
  }

  /**
   * A manager's `pushfile:hosts`: check the table as a reload would, install
   * it by write-and-rename (never a half-written file), then reload.
   */
  async #pushHostsTable(text: string): Promise<string> {
    const file = await installHostsTable(this.#config, publicKeyBase64(this.#keys), text);
    this.log.info(`hosts table pushed by a manager: installed ${file}`);
    return (await this.reload()) ? 'ok' : 'error:reload failed (see the log of the receiving host)';
  }

  /** SIGUSR1 / reset_retries: retry dead and backing-off peers now. */
  retryDead(peer?: string): string[] {
    const retried: string[] = [];
    for (const link of peer ? [this.#peers.get(peer)].filter((l) => l !== undefined) : this.#peers.all()) {
      if (link.retryNow('retry requested')) retried.push(link.peer.id);
      else if (this.spool.depth(link.peer.id) > 0) link.demand();
    }
    this.log.info(`retry requested: ${retried.length ? retried.join(' ') : 'no dead peers'}`);
    return retried;
  }

  /** SIGTERM/SIGINT: stop accepting, answer or spool what is in flight, close. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.log.info('stopping: no new connections; finishing what is in flight');
    clearInterval(this.#housekeeping);
    clearInterval(this.#titleTimer);
    this.#stopAnnouncing?.();
    this.#listener.stopAccepting();
    await this.#mux.close();
    await this.#classic.close();
    await this.#web?.stop();
    // In-flight critical messages fail over to the spool; others answer con_lost.
    this.#peers.closeAll();
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#inFlight.idle(),
      new Promise<void>((resolve) => {
        grace = setTimeout(resolve, SHUTDOWN_GRACE_MS);
      }),
    ]);
    clearTimeout(grace);
    await this.#replication.stop();
    // Replies queued in this turn leave before the connections close.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#mux.endAll();
    this.#classic.endAll();
    this.#listener.closeAll('shutdown');
    this.#livenessClock.stop();
    this.#authGuard.close();
    this.spool.close();
    this.store.close();
    this.#releaseLock();
    this.log.info('stopped');
    this.log.flush();
  }

  // ---- status ----------------------------------------------------------------

  status(): DaemonStatus {
    return {
      hostId: this.#self.id,
      ready: this.#ready,
      ip: this.#self.ip,
      port: this.#config.port,
      httpPort: this.#web ? this.#web.port : null,
      pid: process.pid,
      version: VERSION,
      uptimeMs: Date.now() - this.#startedAt,
      spooled: this.spool.totalDepth(),
      walSyncs: { spool: syncTotals(this.spool.walSync), store: syncTotals(this.store.walSync) },
      peers: this.#peers.status().map((s) => ({
        peer: s.peer,
        state: s.state,
        since: new Date(s.since).toISOString(),
        rttMs: s.rttMs ?? null,
        inFlight: s.inFlight,
        queue: this.spool.depth(s.peer),
        retries: s.retries,
        lastError: s.lastError ?? null,
      })),
    };
  }

  /** Who this server is, for the web's front and login pages. */
  #about(): ServerAbout {
    const self = this.#self;
    const domains = [...new Set(this.#hosts.all().map((h) => h.domain))].sort();
    return { lonid: self.id, domain: self.domain, role: self.role, hostname: self.hostname, version: VERSION, domains };
  }

  /** The status page's data: this host, its links, its spool per peer, the latest problems logged. */
  #statusReport(): StatusReport {
    const s = this.status();
    return {
      host: { ...this.#about(), ip: s.ip, port: s.port, pid: s.pid, uptimeMs: s.uptimeMs },
      peers: s.peers,
      spool: this.#spoolSummary.byPeer(Date.now()),
      recentErrors: this.#recentErrors.list(),
    };
  }

  #updateTitle(): void {
    let up = 0;
    let dead = 0;
    for (const l of this.#peers.all()) {
      if (l.state === 'up') up++;
      else if (l.state === 'dead') dead++;
    }
    process.title = daemonTitle({ hostId: this.#self.id, up, dead, spooled: this.spool.totalDepth() });
  }

  // ---- wiring helpers ----------------------------------------------------------

  #services(): DaemonServices {
    const config = (): Config => this.#config;
    return {
      hostId: this.#config.hostId,
      version: VERSION,
      store: this.store,
      authGuard: this.#authGuard,
      hosts: () => this.#hosts,
      ownIds: () => this.#ownIds,
      reply: (peer, command, opts) => this.#route(peer, command, { critical: false, timeoutMs: opts?.timeoutMs ?? 0 }),
      settings: {
        get loadLimit() {
          return config().loadLimit;
        },
        get userLoadLimit() {
          return config().userLoadLimit;
        },
        activeSessions: () => this.#web?.activeSessions() ?? 0,
        resourceDir: join(this.#config.spool, 'res'),
        get tmpLifetimeMs() {
          return config().tmpLifetimeMs;
        },
        get maxReplyBytes() {
          return config().maxReplyBytes;
        },
        get maxValueBytes() {
          return config().maxValueBytes;
        },
        get logRepeatMs() {
          return config().logRepeatMs;
        },
      },
      reinit: async () => ((await this.reload()) ? 'ok' : 'error:reload failed (see the log of the receiving host)'),
      pushHostsTable: (text) => this.#pushHostsTable(text),
      onAuthRefused: () => this.#metrics.authRefused(),
      admin: {
        status: () => this.status(),
        resetRetries: (peer) => this.retryDead(peer),
        spool: (op, args) => {
          const result = runSpoolOp(this.spool, op, args);
          for (const peer of this.spool.peersWithBacklog()) {
            this.#peers.get(peer)?.demand();
            this.#outbox.linkUp(peer);
          }
          return result;
        },
        site: (op, args) => {
          if (!this.#web) throw new LoncapadError('LC_ERR_BAD_ARGS', 'no web server (started with --http-port 0)');
          return runSiteOp(this.#web.siteMap, op, args);
        },
      },
    };
  }

  #makeLink(peer: HostEntry): PeerLink {
    const c = this.#config;
    return new PeerLink({
      selfId: this.#self.id,
      selfIp: this.#self.ip,
      port: c.port,
      peer,
      keys: this.#keys,
      timing: {
        connectTimeoutMs: c.connectTimeoutMs,
        pingIntervalMs: c.pingIntervalMs,
        pingTimeoutMs: c.pingTimeoutMs,
        idleTimeoutMs: c.idleTimeoutMs,
        backoff: { floorMs: c.backoffFloorMs, ceilingMs: c.backoffCeilingMs },
        deadAfterFailures: c.deadAfterFailures,
      },
      hasBacklog: () => this.spool.depth(peer.id) > 0,
      pacer: this.#handshakes,
      clock: this.#livenessClock,
      log: this.log,
    });
  }

  #readHosts(config: Config): HostsTable {
    return hostsOf(config, publicKeyBase64(this.#keys));
  }

  #checkSelf(hosts: HostsTable, config: Config): HostEntry {
    return selfIn(hosts, config, publicKeyBase64(this.#keys));
  }

  #expiredHousekeeping(): void {
    const now = Date.now();
    const expired = this.spool.expire(now - this.#config.spoolLifetimeMs);
    if (expired > 0) this.log.warn(`spool: ${expired} message(s) older than the lifetime set aside as expired`);
    this.store.applied.prune(now - this.#config.spoolLifetimeMs - APPLIED_ID_MARGIN_MS);
  }
}
