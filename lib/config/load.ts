/**
 * From parsed options to a checked, typed configuration. Runs at start and
 * on SIGHUP (the same argv, so the config file is read again).
 */
import { resolve } from 'node:path';
import yargs from 'yargs';
import { LoncapadError } from '../errors';
import type { LogFormat, LogLevel } from '../log';
import type { HostRole } from './hosts';
import { MAX_TIMEOUT_MS, START_OPTIONS } from './options';
import { checkConfigFile, checkEnvironment } from './setting-names';

export interface Config {
  readonly hostId: string;
  readonly hostsFile: string | undefined;
  readonly spool: string;
  readonly port: number;
  readonly ip: string;
  readonly domain: string;
  readonly role: HostRole;
  readonly httpPort: number;
  readonly site: string;
  /** PEM files of the web server's certificate and key; both or neither (then plain HTTP). */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Plain-HTTP port that redirects to HTTPS; 0: none. */
  readonly httpRedirectPort: number;
  /** Abstract-URL extensions in precedence order (`vuh` is added last by the web server). */
  readonly webExtensions: readonly string[];
  readonly webDirectoryListings: boolean;
  readonly idleTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly backoffFloorMs: number;
  readonly backoffCeilingMs: number;
  readonly deadAfterFailures: number;
  readonly requestTimeoutMs: number;
  readonly criticalTimeoutMs: number;
  readonly spoolLifetimeMs: number;
  readonly managers: readonly string[];
  /** The spares file (`--spares`), read by the daemon at start and on SIGHUP. */
  readonly sparesFile: string | undefined;
  readonly hostUrlTemplate: string;
  readonly resourceExpireMs: number;
  readonly testHooks: boolean;
  readonly tmpLifetimeMs: number;
  readonly maxReplyBytes: number;
  readonly maxValueBytes: number;
  readonly userQuotaBytes: number;
  readonly authWindowMs: number;
  readonly authFailuresPerAccount: number;
  readonly authFailuresPerHost: number;
  readonly authFailureDelayMs: number;
  readonly loadLimit: number;
  readonly userLoadLimit: number;
  readonly loginFailuresPerAccount: number;
  readonly loginFailuresPerIp: number;
  readonly loginLockoutMs: number;
  readonly loginDelayMs: number;
  readonly sessionCheckTtlMs: number;
  readonly logLevel: LogLevel;
  readonly logRepeatMs: number;
  readonly logFormat: LogFormat;
}

/** Parse `loncapad start` arguments (without the `start` word). */
export function loadConfig(args: readonly string[]): Config {
  checkEnvironment(process.env);
  const file = configFileOf(args);
  if (file !== undefined) checkConfigFile(file);
  const argv = yargs([...args])
    // A flag given twice: the last one wins, as in most daemons' command lines.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .options(START_OPTIONS)
    .env('LONCAPAD')
    .config('config')
    .strict()
    .fail((msg, err) => {
      throw new LoncapadError('LC_ERR_CONFIG', err?.message ?? msg);
    })
    .parseSync() as Record<string, unknown>;
  return checkConfig(argv);
}

/** The `--config` file (flag, else LONCAPAD_CONFIG), found without judging the other settings. */
function configFileOf(args: readonly string[]): string | undefined {
  const argv = yargs([...args])
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .options({ config: START_OPTIONS.config })
    .env('LONCAPAD')
    .help(false)
    .version(false)
    .parseSync() as Record<string, unknown>;
  return typeof argv.config === 'string' && argv.config !== '' ? argv.config : undefined;
}

function num(argv: Record<string, unknown>, key: string, min: number, max = Infinity): number {
  const v = argv[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new LoncapadError('LC_ERR_CONFIG', `--${key} must be a number ${range}, got ${String(v)}`);
  }
  return v;
}

/** A timer setting, ms: at least 1, at most MAX_TIMEOUT_MS. */
function ms(argv: Record<string, unknown>, key: string): number {
  return num(argv, key, 1, MAX_TIMEOUT_MS);
}

function str(argv: Record<string, unknown>, key: string): string {
  const v = argv[key];
  if (typeof v !== 'string' || v === '') throw new LoncapadError('LC_ERR_CONFIG', `--${key} must be a non-empty string`);
  return v;
}

/** An optional path: absent, or one non-empty string (a flag given twice is an error). */
function optionalPath(argv: Record<string, unknown>, key: string): string | undefined {
  const v = argv[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new LoncapadError('LC_ERR_CONFIG', `--${key} must be a path`);
  return resolve(v);
}

export function checkConfig(argv: Record<string, unknown>): Config {
  const spool = resolve(str(argv, 'spool'));
  const floor = ms(argv, 'backoff-floor-ms');
  const ceiling = ms(argv, 'backoff-ceiling-ms');
  if (ceiling < floor) throw new LoncapadError('LC_ERR_CONFIG', '--backoff-ceiling-ms must not be below --backoff-floor-ms');
  const list = (key: string): string[] => ((argv[key] as unknown[] | undefined) ?? []).map(String);
  return {
    hostId: str(argv, 'host-id'),
    hostsFile: optionalPath(argv, 'hosts'),
    spool,
    port: num(argv, 'port', 1),
    ip: str(argv, 'ip'),
    domain: str(argv, 'domain'),
    role: str(argv, 'role') as HostRole,
    httpPort: num(argv, 'http-port', 0),
    site: optionalPath(argv, 'site') ?? resolve(spool, 'site'),
    ...webTransport(argv),
    webExtensions: webExtensions(argv),
    webDirectoryListings: argv['web-directory-listings'] === true,
    idleTimeoutMs: ms(argv, 'idle-timeout-ms'),
    pingIntervalMs: ms(argv, 'ping-interval-ms'),
    pingTimeoutMs: ms(argv, 'ping-timeout-ms'),
    connectTimeoutMs: ms(argv, 'connect-timeout-ms'),
    backoffFloorMs: floor,
    backoffCeilingMs: ceiling,
    deadAfterFailures: num(argv, 'dead-after-failures', 1),
    requestTimeoutMs: ms(argv, 'request-timeout-ms'),
    criticalTimeoutMs: ms(argv, 'critical-timeout-ms'),
    spoolLifetimeMs: num(argv, 'spool-lifetime-ms', 1),
    managers: list('managers'),
    sparesFile: optionalPath(argv, 'spares'),
    hostUrlTemplate: str(argv, 'host-url-template'),
    resourceExpireMs: num(argv, 'resource-expire-ms', 0),
    testHooks: argv['test-hooks'] === true,
    tmpLifetimeMs: num(argv, 'tmp-lifetime-ms', 0),
    // A reply must fit one sealed frame with room to spare.
    maxReplyBytes: Math.min(num(argv, 'max-reply-bytes', 1024), 12 * 1024 * 1024),
    // A stored value must come back in a reply, and a command fits one frame.
    maxValueBytes: Math.min(num(argv, 'max-value-bytes', 1), 8 * 1024 * 1024),
    userQuotaBytes: num(argv, 'user-quota-bytes', 0),
    authWindowMs: num(argv, 'auth-window-ms', 1),
    authFailuresPerAccount: num(argv, 'auth-failures-per-account', 1),
    authFailuresPerHost: num(argv, 'auth-failures-per-host', 1),
    authFailureDelayMs: num(argv, 'auth-failure-delay-ms', 0),
    loadLimit: num(argv, 'load-limit', 0.01),
    userLoadLimit: num(argv, 'user-load-limit', 0),
    loginFailuresPerAccount: Math.floor(num(argv, 'login-failures-per-account', 1)),
    loginFailuresPerIp: Math.floor(num(argv, 'login-failures-per-ip', 1)),
    loginLockoutMs: num(argv, 'login-lockout-ms', 1),
    loginDelayMs: num(argv, 'login-delay-ms', 0),
    sessionCheckTtlMs: num(argv, 'session-check-ttl-ms', 0),
    logLevel: str(argv, 'log-level') as LogLevel,
    logRepeatMs: num(argv, 'log-repeat-ms', 1),
    logFormat: str(argv, 'log-format') as LogFormat,
  };
}

/** TLS files (both or neither) and the redirect port, which only makes sense with TLS. */
function webTransport(argv: Record<string, unknown>): Pick<Config, 'tlsCert' | 'tlsKey' | 'httpRedirectPort'> {
  const tlsCert = optionalPath(argv, 'tls-cert');
  const tlsKey = optionalPath(argv, 'tls-key');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new LoncapadError('LC_ERR_CONFIG', '--tls-cert and --tls-key go together: give both, or neither for plain HTTP');
  }
  const httpRedirectPort = num(argv, 'http-redirect-port', 0, 65_535);
  if (httpRedirectPort > 0 && tlsCert === undefined) {
    throw new LoncapadError('LC_ERR_CONFIG', '--http-redirect-port redirects to HTTPS: it needs --tls-cert and --tls-key');
  }
  if (httpRedirectPort > 0 && httpRedirectPort === argv['http-port']) {
    throw new LoncapadError('LC_ERR_CONFIG', '--http-redirect-port must differ from --http-port');
  }
  return { tlsCert, tlsKey, httpRedirectPort };
}

/** Loncapad's own pages (login, status, the front page) are page modules, so `page.js` must stay in the list. */
const OWN_PAGES_EXTENSION = 'page.js';
/**
 * `--web-extensions page.js,html gif`: commas or separate words, in order.
 * The web server checks each extension's spelling.
 */
function webExtensions(argv: Record<string, unknown>): string[] {
  const raw = argv['web-extensions'];
  const words = (Array.isArray(raw) ? raw : [raw]).flatMap((w) => String(w).split(',')).map((w) => w.trim()).filter((w) => w !== '');
  if (!words.includes(OWN_PAGES_EXTENSION)) {
    throw new LoncapadError('LC_ERR_CONFIG', `--web-extensions must include ${OWN_PAGES_EXTENSION}: loncapad's own pages (login, status) are page modules`);
  }
  return words;
}
