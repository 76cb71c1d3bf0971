/**
 * A real command table over a real UserStore in the test's directory, and a
 * `call(line)` that runs a command the way the daemon's dispatcher does:
 * parse, check access, run a writing handler inside one transaction (with the
 * applied-id record when a msgid is given), and turn failures into the
 * classic reply. Only the network is left out.
 *
 * The fixture is the library server lib1 of a small network (FIXTURE_HOSTS);
 * calls come from the access server acc1 unless the test says otherwise
 * (a caller's role and domain are those of its hosts-table entry).
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { HostsTable } from '../../lib/config/hosts';
import { AuthGuard, type AuthGuardSettings } from '../../lib/commands/auth-guard';
import { classicCommands } from '../../lib/commands/catalogue';
import type { CommandSettings, DaemonServices } from '../../lib/commands/context';
import { Dispatcher, type Invocation } from '../../lib/commands/dispatch';
import { CommandTable } from '../../lib/commands/table';
import { createLogger } from '../../lib/log';
import { UserStore } from '../../lib/store';

/** The network the fixture's lib1 believes in. */
export const FIXTURE_HOSTS = new HostsTable(
  (
    [
      ['lib1', 'msu', 'library'],
      ['lib2', 'msu', 'library'],
      ['acc1', 'msu', 'access'],
      ['lib9', 'other', 'library'],
    ] as const
  ).map(([id, domain, role], i) => ({ id, domain, role, hostname: `${id}.example.org`, ip: `192.0.2.${i + 1}`, publicKey: '' })),
);

/** A library server of msu, the domain of the tests' users: may create users and change their roles. */
export const MSU_LIBRARY: Caller = { caller: 'lib2' };

export interface Caller {
  readonly caller?: string;
  readonly callerRole?: 'library' | 'access';
  readonly local?: boolean;
  readonly manager?: boolean;
  readonly msgid?: string;
}

export interface FixtureOptions {
  /** Who calls when a call does not say; default acc1, an access server of msu. */
  readonly caller?: Caller;
  readonly now?: () => number;
  readonly settings?: Partial<Pick<CommandSettings, 'resourceDir' | 'tmpLifetimeMs' | 'maxReplyBytes' | 'maxValueBytes' | 'logRepeatMs'>>;
  /** The per-user quota, bytes; default none. */
  readonly quotaBytes?: number;
  /** Password-check throttle; default: the daemon's defaults without the failure delay. */
  readonly auth?: Partial<AuthGuardSettings>;
  readonly reinit?: DaemonServices['reinit'];
}

export interface Fixture {
  readonly store: UserStore;
  /** What the daemon would have logged at warn (refusals, failed and throttled checks). */
  readonly warnings: string[];
  readonly table: CommandTable;
  readonly file: string;
  call(line: string, who?: Caller): Promise<string>;
  /** Run lines as one batch, as an inbound frame's requests run (one transaction, one sync); the replies once durable. */
  batch(lines: readonly string[], who?: Caller): Promise<string[]>;
}

interface Tap {
  testdir(): string;
  teardown(fn: () => void): void;
}

const testDirs = new WeakMap<Tap, string>();

/** The test's directory: `t.testdir()` empties it on every call, so call it once per test. */
export function testDirOf(t: Tap): string {
  let dir = testDirs.get(t);
  if (dir === undefined) testDirs.set(t, (dir = t.testdir()));
  return dir;
}

export function makeFixture(t: Tap, options: FixtureOptions = {}): Fixture {
  const dir = mkdtempSync(join(testDirOf(t), 'store-'));
  const file = join(dir, 'data.sqlite');
  const store = new UserStore(file, { now: options.now, quotaBytes: () => options.quotaBytes ?? 0 });
  t.teardown(() => store.close());
  const table = new CommandTable().register(...classicCommands);
  const settings: CommandSettings = {
    loadLimit: 2,
    userLoadLimit: 0,
    activeSessions: () => 0,
    resourceDir: join(dir, 'no-resources-here'),
    tmpLifetimeMs: 24 * 60 * 60 * 1000,
    maxReplyBytes: 8 * 1024 * 1024,
    maxValueBytes: 1024 * 1024,
    logRepeatMs: 60_000,
    ...options.settings,
  };
  const warnings: string[] = [];
  const authGuard = new AuthGuard({
    settings: () => ({ perAccount: 10, perHost: 1000, windowMs: 300_000, failureDelayMs: 0, ...options.auth }),
    logRepeatMs: () => settings.logRepeatMs,
    warn: (line) => warnings.push(line),
  });
  t.teardown(() => authGuard.close());
  const services: DaemonServices = {
    hostId: 'lib1',
    version: 'test',
    store,
    authGuard,
    hosts: () => FIXTURE_HOSTS,
    ownIds: () => ['lib1'],
    reply: () => Promise.reject(new Error('no network in this test')),
    settings,
    admin: { status: () => ({}), resetRetries: () => [], spool: () => ({}), site: () => ({}) },
    reinit: options.reinit ?? (() => 'ok'),
    pushHostsTable: () => Promise.resolve('ok'),
  };
  // The daemon's own dispatcher: prefixes, access check, exactly-once, classic replies.
  const dispatcher = new Dispatcher(table, services, createLogger('error'));

  function invocation(asked: Caller): Invocation {
    const who = { ...options.caller, ...asked };
    const caller = who.caller ?? 'acc1';
    return {
      caller,
      callerRole: who.callerRole ?? FIXTURE_HOSTS.get(caller)?.role ?? 'access',
      local: who.local ?? false,
      manager: who.manager ?? false,
      served: 'lib1',
      msgid: who.msgid,
    };
  }

  async function call(line: string, asked: Caller = {}): Promise<string> {
    return dispatcher.run(line, invocation(asked));
  }

  async function batch(lines: readonly string[], asked: Caller = {}): Promise<string[]> {
    const inv = invocation(asked);
    const { replies, durable } = dispatcher.runBatch(lines.map((line) => ({ command: dispatcher.parse(line), inv })));
    await durable;
    return Promise.all(replies);
  }

  return { store, warnings, table, file, call, batch };
}
