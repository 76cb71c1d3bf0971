/**
 * Every setting of `loncapad start`, declared once for yargs, which applies
 * the precedence: flags > environment (`LONCAPAD_<NAME>`, e.g.
 * LONCAPAD_HOST_ID) > JSON config file (`--config`, camelCase or kebab-case
 * keys) > these defaults. docs/configuration.md lists them.
 */
import type { Options } from 'yargs';

export const DEFAULT_PORT = 5663;
/**
 * Longest deadline or delay any setting or request may ask for, ms: one day
 * (node's timers stop at 2^31 - 1 ms, about 24.8 days, and turn anything
 * longer into 1 ms).
 */
export const MAX_TIMEOUT_MS = 86_400_000;

export const START_OPTIONS = {
  config: { type: 'string', describe: 'JSON configuration file' },
  'host-id': { type: 'string', default: 'local', describe: "this host's lonid in the hosts table" },
  hosts: { type: 'string', describe: 'hosts table (lonid:domain:role:hostname:ip:publickey); default: a one-host network' },
  spool: { type: 'string', default: './spool', describe: 'state directory (databases, keys, sockets)' },
  port: { type: 'number', default: DEFAULT_PORT, describe: 'TCP port of every peer link (the classic londPort)' },
  ip: { type: 'string', default: '127.0.0.1', describe: 'address of the one-host default network (ignored with --hosts)' },
  domain: { type: 'string', default: 'local', describe: 'domain of the one-host default network (ignored with --hosts)' },
  role: { choices: ['library', 'access'], default: 'library', describe: 'role of the one-host default network (ignored with --hosts)' },
  'http-port': { type: 'number', default: 8080, describe: 'HTTP port of the web request processor (0: no web server)' },
  site: { type: 'string', describe: 'site directory (global www/ and packages/<key>/www/); default SPOOL/site' },
  'tls-cert': { type: 'string', describe: 'PEM certificate (chain) of the web server: with --tls-key it speaks HTTPS; re-read on SIGHUP' },
  'tls-key': { type: 'string', describe: 'PEM private key matching --tls-cert; re-read on SIGHUP' },
  'http-redirect-port': {
    type: 'number',
    default: 0,
    describe: 'with TLS: a plain-HTTP port that only redirects to HTTPS (0: none)',
  },
  'web-extensions': {
    type: 'array',
    string: true,
    default: ['page.js', 'html'],
    describe: 'extensions tried for an abstract URL, in order (comma- or space-separated; vuh is always tried last; must include page.js)',
  },
  'web-directory-listings': { type: 'boolean', default: false, describe: 'list pageroot directories that have no index file' },
  'idle-timeout-ms': { type: 'number', default: 300_000, describe: 'close a peer link with nothing to do for this long' },
  'ping-interval-ms': { type: 'number', default: 30_000, describe: 'ping a peer link silent this long' },
  'ping-timeout-ms': { type: 'number', default: 10_000, describe: 'drop a link whose ping is unanswered this long' },
  'connect-timeout-ms': { type: 'number', default: 5_000, describe: 'give up a TCP connect after this long' },
  'backoff-floor-ms': { type: 'number', default: 250, describe: 'first reconnect delay' },
  'backoff-ceiling-ms': { type: 'number', default: 60_000, describe: 'longest reconnect delay; also the retry period of a dead peer' },
  'dead-after-failures': { type: 'number', default: 3, describe: 'failed connects before a peer is marked dead' },
  'request-timeout-ms': { type: 'number', default: 30_000, describe: 'default deadline of a request' },
  'critical-timeout-ms': { type: 'number', default: 10_000, describe: 'default deadline of a critical message before it is spooled' },
  'spool-lifetime-ms': { type: 'number', default: 5 * 86_400_000, describe: 'spooled messages older than this are set aside as expired' },
  managers: { type: 'array', string: true, default: [] as string[], describe: 'lonids allowed manager commands' },
  spares: { type: 'string', describe: 'file of spare servers for the login offload (one lonid a line, or primary:/default: groups)' },
  'host-url-template': {
    type: 'string',
    default: 'http://{hostname}:{httpPort}',
    describe: "a host's web address for browsers and /raw callers ({id} {hostname} {ip} {httpPort})",
  },
  'resource-expire-ms': {
    type: 'number',
    default: 86_400_000,
    alias: 'resource-expire',
    describe: 'a copy not read for this long is dropped when an update comes (classic lonExpire; --resource-expire is the same)',
  },
  'test-hooks': { type: 'boolean', default: false, describe: 'accept fault injection into transfers (res:fault; tests only)' },
  'tmp-lifetime-ms': { type: 'number', default: 86_400_000, describe: 'how long a tmpput blob lives' },
  'max-reply-bytes': { type: 'number', default: 8 * 1024 * 1024, describe: 'largest reply a command builds (dump, keys, restore, ls)' },
  'max-value-bytes': { type: 'number', default: 1024 * 1024, describe: 'largest value a command stores (put, store, tmpput …); escaped, so characters are bytes' },
  'user-quota-bytes': { type: 'number', default: 256 * 1024 * 1024, describe: "storage per user (values, records, history, activity log); 0: no quota" },
  'auth-window-ms': { type: 'number', default: 300_000, describe: 'window in which failed password checks are counted' },
  'auth-failures-per-account': { type: 'number', default: 10, describe: 'failed checks of one account (any host) per window before its checks are refused' },
  'auth-failures-per-host': { type: 'number', default: 1000, describe: 'failed checks from one calling host (any account) per window before its checks are refused' },
  'auth-failure-delay-ms': { type: 'number', default: 250, describe: 'a failed password check answers after this long' },
  'load-limit': { type: 'number', default: 2, describe: 'load average that counts as 100 % (classic lonLoadLim)' },
  'user-load-limit': { type: 'number', default: 0, describe: 'active sessions that count as 100 % (0: off)' },
  'login-failures-per-account': {
    type: 'number',
    default: 5,
    describe: 'failed web logins to one account from one address before that address is refused for it',
  },
  'login-failures-per-ip': { type: 'number', default: 50, describe: 'failed web logins from one address (any accounts) before it is refused' },
  'login-lockout-ms': { type: 'number', default: 300_000, describe: 'how long a refused address stays refused; failures drain over this time' },
  'login-delay-ms': {
    type: 'number',
    default: 1_000,
    describe: 'wait imposed after the second failed web login to one account from one address; doubles with each further one',
  },
  'session-check-ttl-ms': {
    type: 'number',
    default: 5_000,
    describe: "how long a web session trusts its user's auth token as her home server last answered it (0: ask every request)",
  },
  'log-repeat-ms': { type: 'number', default: 60_000, describe: 'a log line an offender can repeat is written once per period, repeats summed up' },
  'log-level': { choices: ['debug', 'info', 'warn', 'error'], default: 'info', describe: 'least severe level logged' },
  'log-format': {
    choices: ['text', 'json'],
    default: 'text',
    describe: 'log lines on stderr: text (<time> <level> <message>) or json (one {"time","level","msg"} object a line)',
  },
} as const satisfies Record<string, Options>;
