/**
 * What a command handler may reach. Handlers get the store and the network
 * only through this context, never by importing the daemon, so the command
 * files stay testable on their own and dependencies point one way.
 */
import type { HostRole, HostsTable } from '../config/hosts';
import type { ReplyRoom } from '../reply-room';
import type { UserStore } from '../store/user-store';
import type { AuthGuard } from './auth-guard';

export interface CommandContext {
  /** lonid of the calling host (this host's own id for local clients). */
  readonly caller: string;
  readonly callerRole: HostRole;
  /** The command came from a process on this machine. */
  readonly local: boolean;
  /** The caller is listed as a manager in the configuration. */
  readonly manager: boolean;
  /** The lonid this command is addressed to (one of this machine's ids). */
  readonly served: string;
  /** Id of the critical message carrying this command, if it is one. */
  readonly msgid: string | undefined;
  /** The requester's connection: large replies wait until it has room (lib/reply-room.ts). */
  readonly replyRoom?: ReplyRoom | undefined;
  readonly services: DaemonServices;
}

export interface DaemonServices {
  /** This host's primary lonid. */
  readonly hostId: string;
  readonly version: string;
  readonly store: UserStore;
  /** Throttles, delays and logs the password checks callers ask for (auth, passwd). */
  readonly authGuard: AuthGuard;
  /** The current hosts table (replaced on SIGHUP). */
  hosts(): HostsTable;
  /** Every lonid this machine answers for (its own and aliases at its IP). */
  ownIds(): string[];
  /** Send a command to a peer through this host's own outbound link. */
  reply(peer: string, command: string, opts?: { timeoutMs?: number }): Promise<string>;
  /** Configuration values handlers need (limits, managers, spares). */
  readonly settings: CommandSettings;
  /** Operator actions on this daemon (local clients only). */
  readonly admin: AdminServices;
  /** `reinit:lonc|lond` from a manager: re-read config and hosts table (the SIGHUP path). */
  reinit(target: 'lonc' | 'lond'): string | Promise<string>;
  /** `pushfile:hosts:…` from a manager: check, install and apply a new hosts table. */
  pushHostsTable(text: string): Promise<string>;
  /** `auth` answered `non_authorized` to `caller` (a peer's lonid, or this host's): counted by the metrics. */
  onAuthRefused?(caller: string): void;
}

export interface CommandSettings {
  /** Load average that counts as 100 % (classic `lonLoadLim`, default 2.00). */
  readonly loadLimit: number;
  /** Active sessions that count as 100 % (classic `lonUserLoadLim`; 0 = off). */
  readonly userLoadLimit: number;
  /** Number of sessions currently active (kept by the web processor). */
  activeSessions(): number;
  /** Root of the published resource space (`/res/…` maps below it): `SPOOL/res`. */
  readonly resourceDir: string;
  /** How long a `tmpput` blob lives, ms. */
  readonly tmpLifetimeMs: number;
  /** Largest reply a handler builds, bytes (replies travel in one sealed frame). */
  readonly maxReplyBytes: number;
  /** Longest value (escaped text, so characters are bytes) a command stores. */
  readonly maxValueBytes: number;
  /** A log line an offender can repeat is written once per this period, its repeats summed up, ms. */
  readonly logRepeatMs: number;
}

export interface AdminServices {
  status(): unknown;
  resetRetries(peer: string | undefined): string[];
  spool(op: string, args: string[]): unknown;
  /** Site map operations (mount, unmount, list, grant, revoke) on the running web server. */
  site(op: string, args: readonly unknown[]): unknown;
}
