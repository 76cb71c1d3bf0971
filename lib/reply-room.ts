/**
 * Back-pressure from a connection to the commands that answer on it.
 *
 * A command that builds a large reply (dump, keys, currentdump) holds it
 * whole in memory until the connection it answers on has sent it. When that
 * connection is not draining (a local client that does not read, a peer
 * link with megabytes queued), building more replies for it only grows the
 * daemon, so such a command first waits until its connection has room. The
 * connection's other traffic is never held back by this: a ping on the same
 * link is read and answered as usual.
 */
export interface ReplyRoom {
  /** Is there room for a large reply now? */
  hasRoom(): boolean;
  /** Resolves once there is room (at once when there is). */
  whenRoom(): Promise<void>;
}

/** Check `hasRoom` every this many ms while somebody waits (only then). */
const ROOM_CHECK_MS = 10;

/** A ReplyRoom over a synchronous test of the connection's queued bytes. */
export function replyRoom(hasRoom: () => boolean): ReplyRoom {
  let waiters: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    if (!hasRoom()) return;
    clearInterval(timer);
    timer = undefined;
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  };
  return {
    hasRoom,
    whenRoom: () => {
      if (hasRoom()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        timer ??= setInterval(check, ROOM_CHECK_MS);
      });
    },
  };
}
