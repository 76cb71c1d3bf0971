/**
 * The web part's contract with whoever checks passwords and places logins
 * (the daemon: the user's home server over the network, the spares): types
 * only, so every part of the web processor can name them without importing
 * each other.
 */
/**
 * How the web part checks a password and a session; the daemon asks the
 * user's home server. Both reject with LC_ERR_PEER_DOWN or LC_ERR_TIMEOUT
 * when her home cannot answer.
 */
export interface WebAuth {
  authenticate(user: string, domain: string, password: string): Promise<boolean>;
  /**
   * The user's auth token, which her home server replaces whenever her
   * authentication changes; undefined when no server claims her.
   */
  authToken(user: string, domain: string): Promise<string | undefined>;
  /** Load balancing at login (login-offload.ts); without it every login happens here. */
  readonly offload?: LoginOffload;
  /**
   * Where the user lives and her roles, as her home server keeps them
   * (`roles` namespace: `/<domain>/<course>_<role>` → `<role>_<end>_<start>`);
   * undefined when no server claims her.
   */
  profile(user: string, domain: string): Promise<UserProfile | undefined>;
}

export interface UserProfile {
  /** Her home server's lonid. */
  readonly home: string;
  readonly roles: Readonly<Record<string, string>>;
}

export type WebLog = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** A passed check: what `env.login` needs to open her session. */
export interface AcceptedLogin {
  readonly kind: 'accepted';
  readonly user: string;
  readonly domain: string;
  /** Her auth token at the home server when the password was checked. */
  readonly authToken: string;
}

export type LoginPlacement =
  | { readonly kind: 'here' }
  | { readonly kind: 'spare'; readonly spare: string }
  | { readonly kind: 'overloaded'; readonly retryAfterS: number };

/** A login handed over: who (with her auth token as her home answered it) and where she was going. */
export interface LoginGrant extends AcceptedLogin {
  readonly returnUrl: string;
}

export interface LoginOffload {
  /** Where a login arriving now should happen. */
  place(): Promise<LoginPlacement>;
  /** The URL on `spare` that logs this (already authenticated) user in there. */
  handOver(grant: LoginGrant, spare: string): string;
  /** Redeem a token issued for this host by `from`; undefined when it is not valid (any more). */
  redeem(token: string, from: string): Promise<LoginGrant | undefined>;
}
