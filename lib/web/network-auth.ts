/**
 * Login for the web processor: find the user's home server over the
 * network (every library server of her domain, in parallel) and ask it
 * `auth`, `authtoken` for the token her sessions carry, or `dump` of her
 * roles for the page she lands on. An unreachable
 * home is "try again later" (LC_ERR_PEER_DOWN), not "wrong password".
 */
import type { HostsTable } from '../config';
import { ROLES_NAMESPACE } from '../commands/user-data';
import { homeServer, Lonnet, LonnetError, NO_HOST, type Transport } from '../client/lonnet';
import { LoncapadError } from '../errors';
import type { UserProfile, WebAuth } from './web-auth';
import { AUTH_TOKEN_RE } from './session-cookie';

/**
 * What a home server that predates `authtoken` (it answers unknown_cmd) is
 * taken to answer: sessions of its users cannot be ended by a password
 * change until it is upgraded, but they can log in meanwhile.
 */
export const UNTRACKED_AUTH_TOKEN = 'untracked';

export function networkAuth(transport: Transport, hosts: () => HostsTable): WebAuth {
  const lonnet = new Lonnet(transport);
  /** Run `ask` on the user's home server; `absent` when no library server claims her. */
  async function atHome<T>(user: string, domain: string, absent: T, ask: (home: string) => Promise<T>): Promise<T> {
    try {
      const home = await homeServer(transport, hosts().all(), user, domain);
      return home === NO_HOST ? absent : await ask(home);
    } catch (err) {
      if (err instanceof LonnetError && (err.code === 'con_lost' || err.code === 'no_such_host')) {
        throw new LoncapadError('LC_ERR_PEER_DOWN', `home server of ${user}:${domain} unreachable`, { cause: err });
      }
      if (err instanceof LonnetError && err.code === 'error') return absent; // bad name characters and the like
      throw err;
    }
  }
  return {
    authenticate: (user, domain, password) => atHome(user, domain, false, (home) => lonnet.auth(home, domain, user, password)),
    authToken: (user, domain) =>
      atHome<string | undefined>(user, domain, undefined, async (home) => {
        try {
          const token = await lonnet.authToken(home, domain, user);
          if (token !== undefined && !AUTH_TOKEN_RE.test(token)) throw new LonnetError('unexpected_reply', token.slice(0, 80), 'authtoken');
          return token;
        } catch (err) {
          if (err instanceof LonnetError && err.code === 'unknown_cmd') return UNTRACKED_AUTH_TOKEN;
          throw err;
        }
      }),
    profile: (user, domain) =>
      atHome<UserProfile | undefined>(user, domain, undefined, async (home) => ({
        home,
        roles: await lonnet.dump(home, domain, user, ROLES_NAMESPACE),
      })),
  };
}
