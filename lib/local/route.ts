/** How the local sockets hand a request to the daemon. */
export interface RouteOptions {
  readonly critical: boolean;
  /** Deadline, ms; 0 = the daemon's default. */
  readonly timeoutMs: number;
}

export type RouteFn = (peer: string, command: string, opts: RouteOptions) => Promise<string>;
