import type { ReplyRoom } from '../reply-room';

/** How the local sockets hand a request to the daemon. */
export interface RouteOptions {
  readonly critical: boolean;
  /** Deadline, ms; 0 = the daemon's default. */
  readonly timeoutMs: number;
  /** The client's connection, for commands run here that build large replies. */
  readonly replyRoom?: ReplyRoom | undefined;
  /** The local connection the request came from: commands run here keep its order. */
  readonly origin?: object | undefined;
  /** True once the client has gone: a large reply from a peer is then not collected. */
  readonly abandoned?: (() => boolean) | undefined;
}

export type RouteFn = (peer: string, command: string, opts: RouteOptions) => Promise<string>;
