/**
 * A password check for the web, as the login page (or any page) asks it:
 *
 *   1. the throttle: a refused attempt ends here, costing no network
 *      request and no scrypt at the home server                  → throttled
 *   2. a malformed name or an empty password is a failure without asking
 *   3. the user's auth token, then `auth` at her home server (the token
 *      first: a change landing in between leaves the session with the older
 *      token, which the next request rejects, never the reverse)
 *   4. the outcome goes back to the throttle, and a failure to the log
 *
 * Unknown users cost the same as wrong passwords (the home hashes for
 * them too): both answer `refused`, and neither reply nor timing tells
 * them apart.
 */
import { isUnreachable } from '../errors';
import type { LoginFailureLog } from './login-failure-log';
import type { LoginThrottle, ThrottleScope } from './login-throttle';
import { userParty } from './permissions';
import type { AcceptedLogin, WebAuth, WebLog } from './web-auth';

export type { AcceptedLogin } from './web-auth';

export type PasswordCheck =
  | AcceptedLogin
  | { readonly kind: 'refused' }
  | { readonly kind: 'throttled'; readonly retryAfterS: number; readonly scope: ThrottleScope }
  | { readonly kind: 'unavailable' };

const REFUSED = Object.freeze({ kind: 'refused' as const });

export class LoginGate {
  readonly #auth: WebAuth;
  readonly #throttle: LoginThrottle;
  readonly #failures: LoginFailureLog;
  readonly #log: WebLog;

  constructor(auth: WebAuth, throttle: LoginThrottle, failures: LoginFailureLog, log: WebLog) {
    this.#auth = auth;
    this.#throttle = throttle;
    this.#failures = failures;
    this.#log = log;
  }

  async check(user: string, domain: string, password: string, address: string): Promise<PasswordCheck> {
    const account = userParty(user, domain);
    const who = account ?? 'a malformed name';
    const admission = this.#throttle.admit(account, address, Date.now());
    if (!admission.admitted) {
      const retryAfterS = Math.ceil(admission.retryAfterMs / 1000);
      this.#failures.failed(who, address, `refused for ${retryAfterS} s (too many failures from this ${admission.scope === 'source' ? 'address' : 'address for this account'})`, Date.now());
      return { kind: 'throttled', retryAfterS, scope: admission.scope };
    }
    const { ticket } = admission;
    if (account === undefined || password === '') {
      this.#throttle.finish(ticket, 'failed', Date.now());
      this.#failures.failed(who, address, account === undefined ? 'malformed name' : 'empty password', Date.now());
      return REFUSED;
    }
    let authToken: string | undefined;
    let passed: boolean;
    try {
      authToken = await this.#auth.authToken(user, domain);
      passed = await this.#auth.authenticate(user, domain, password);
    } catch (err) {
      this.#throttle.finish(ticket, 'unknown', Date.now());
      // The user's home server could not answer: say so rather than "wrong password".
      if (!isUnreachable(err)) throw err;
      this.#log('warn', `web login ${account}: home server unavailable (${err.code})`);
      return { kind: 'unavailable' };
    }
    // No token and yet authorized: she was removed or moved meanwhile; she can try again.
    if (passed && authToken !== undefined) {
      this.#throttle.finish(ticket, 'passed', Date.now());
      return { kind: 'accepted', user, domain, authToken };
    }
    this.#throttle.finish(ticket, 'failed', Date.now());
    this.#failures.failed(account, address, 'unknown user or wrong password', Date.now());
    return REFUSED;
  }

  /** At stop: write what the failure log still counts. */
  close(): void {
    this.#failures.close();
  }
}
