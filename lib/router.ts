/**
 * Where a local request goes:
 *   `.` or one of our own ids  ─▶ run here (writes group-committed per turn)
 *   `reset_retries` to a peer  ─▶ answered here (classic in-band control)
 *   unknown id                 ─▶ `no_such_host`, no I/O
 *   critical                   ─▶ the outbox (live, or spooled: `con_delayed`)
 *   otherwise                  ─▶ the peer's link; failure ─▶ `con_lost`
 */
import type { HostRole, HostsTable } from './config';
import type { LocalGroupCommit } from './commands/local-group-commit';
import { toClassicReply } from './errors';
import { SELF_PEER, type RouteOptions } from './local';
import type { PeerTable } from './peers';
import type { Outbox } from './spool';
import { MAX_FRAME_BYTES } from './wire';

/** Room for the message header inside a frame. */
const MAX_COMMAND_BYTES = MAX_FRAME_BYTES - 1024;

export interface RouterDeps {
  readonly hostId: () => string;
  readonly role: () => HostRole;
  readonly ownIds: () => readonly string[];
  readonly hosts: () => HostsTable;
  readonly local: Pick<LocalGroupCommit, 'run'>;
  readonly peers: PeerTable;
  readonly outbox: Outbox;
  readonly requestTimeoutMs: () => number;
  readonly criticalTimeoutMs: () => number;
  readonly resetRetries: (peer: string) => void;
}

export class Router {
  readonly #d: RouterDeps;

  constructor(deps: RouterDeps) {
    this.#d = deps;
  }

  /** Never rejects: every outcome is a classic reply (no async wrapper: one promise less per request). */
  readonly route = (peer: string, command: string, opts: RouteOptions): Promise<string> => {
    const d = this.#d;
    const target = peer === SELF_PEER ? d.hostId() : peer;
    // Characters are at most bytes × 1; count bytes only for a line that might be too long.
    if (command.length * 3 > MAX_COMMAND_BYTES && Buffer.byteLength(command) > MAX_COMMAND_BYTES) {
      return Promise.resolve(`error:command larger than ${MAX_COMMAND_BYTES} bytes`);
    }
    if (d.ownIds().includes(target)) {
      return Promise.resolve(d.local.run(command, {
        caller: d.hostId(),
        callerRole: d.role(),
        local: true,
        manager: true,
        served: target,
        replyRoom: opts.replyRoom,
        origin: opts.origin,
      }));
    }
    if (!d.hosts().has(target)) return Promise.resolve('no_such_host');
    if (command === 'reset_retries') {
      d.resetRetries(target);
      return Promise.resolve('ok');
    }
    if (opts.critical) return d.outbox.critical(target, command, opts.timeoutMs || d.criticalTimeoutMs());
    const link = d.peers.get(target);
    if (!link) return Promise.resolve('no_such_host');
    return link.send(command, { timeoutMs: opts.timeoutMs || d.requestTimeoutMs(), abandoned: opts.abandoned }).catch(toClassicReply);
  };
}
