/**
 * What the daemon tells the web part about itself, through provider
 * functions it wires in daemon.ts (the web part never imports the daemon):
 * who this server is, for the front and login pages, and the status page's
 * data. The shapes are plain data, so the status package sends them to the
 * browser as they are (`/status/data.json`).
 */

/** This server and its network, as the front and login pages show them. */
export interface ServerAbout {
  readonly lonid: string;
  /** This server's domain: its institution. */
  readonly domain: string;
  readonly role: string;
  readonly hostname: string;
  readonly version: string;
  /** Every domain of the hosts table, sorted: the institutions a user may log in from. */
  readonly domains: readonly string[];
}

export interface PeerLinkReport {
  readonly peer: string;
  /** idle, connecting, handshaking, up, backoff or dead. */
  readonly state: string;
  /** ISO time of the last state change. */
  readonly since: string;
  readonly rttMs: number | null;
  /** Requests sent and not yet answered. */
  readonly inFlight: number;
  /** Critical messages ready to replay to the peer. */
  readonly queue: number;
  readonly retries: number;
  readonly lastError: string | null;
}

export interface SpoolReport {
  readonly peer: string;
  readonly depth: number;
  readonly oldestAgeMs: number | null;
  readonly aside: number;
}

export interface ProblemReport {
  readonly at: string;
  readonly level: 'warn' | 'error';
  readonly text: string;
}

/** The daemon's part of the status page. */
export interface StatusReport {
  readonly host: ServerAbout & {
    readonly ip: string;
    readonly port: number;
    readonly pid: number;
    readonly uptimeMs: number;
  };
  readonly peers: readonly PeerLinkReport[];
  readonly spool: readonly SpoolReport[];
  /** The latest warnings and errors of the log, newest first (bounded). */
  readonly recentErrors: readonly ProblemReport[];
}

/** The status page's whole data: the daemon's report and the web server's own numbers. */
export interface StatusPageData extends StatusReport {
  readonly web: {
    readonly port: number;
    readonly tls: boolean;
    readonly activeSessions: number;
    readonly requests: number;
  };
  /** ISO time this was put together (ages are counted from it). */
  readonly generatedAt: string;
}
