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
  readonly spares: readonly string[];
  readonly tmpLifetimeMs: number;
  readonly maxReplyBytes: number;
  readonly loadLimit: number;
  readonly userLoadLimit: number;
  readonly loginFailuresPerAccount: number;
  readonly loginFailuresPerIp: number;
  readonly loginLockoutMs: number;
  readonly loginDelayMs: number;
  readonly sessionCheckTtlMs: number;
  readonly logLevel: LogLevel;
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
    spares: list('spares'),
    tmpLifetimeMs: num(argv, 'tmp-lifetime-ms', 0),
    // A reply must fit one sealed frame with room to spare.
    maxReplyBytes: Math.min(num(argv, 'max-reply-bytes', 1024), 12 * 1024 * 1024),
    loadLimit: num(argv, 'load-limit', 0.01),
    userLoadLimit: num(argv, 'user-load-limit', 0),
    loginFailuresPerAccount: Math.floor(num(argv, 'login-failures-per-account', 1)),
    loginFailuresPerIp: Math.floor(num(argv, 'login-failures-per-ip', 1)),
    loginLockoutMs: num(argv, 'login-lockout-ms', 1),
    loginDelayMs: num(argv, 'login-delay-ms', 0),
    sessionCheckTtlMs: num(argv, 'session-check-ttl-ms', 0),
    logLevel: str(argv, 'log-level') as LogLevel,
    logFormat: str(argv, 'log-format') as LogFormat,
  };
}
