/**
 * Login for the web processor: find the user's home server over the
 * network (every library server of her domain, in parallel) and ask it
 * `auth`. An unreachable home is "try again later" (LC_ERR_PEER_DOWN), not
 * "wrong password".
 */
import type { HostsTable } from './config';
import { homeServer, Lonnet, LonnetError, NO_HOST, type Transport } from './client/lonnet';
import { LoncapadError } from './errors';
import type { WebAuth } from './web';

export function networkAuth(transport: Transport, hosts: () => HostsTable): WebAuth {
  const lonnet = new Lonnet(transport);
  return {
    authenticate: async (user, domain, password) => {
      try {
        const home = await homeServer(transport, hosts().all(), user, domain);
        if (home === NO_HOST) return false;
        return await lonnet.auth(home, domain, user, password);
      } catch (err) {
        if (err instanceof LonnetError && (err.code === 'con_lost' || err.code === 'no_such_host')) {
          throw new LoncapadError('LC_ERR_PEER_DOWN', `home server of ${user}:${domain} unreachable`, { cause: err });
        }
        if (err instanceof LonnetError && err.code === 'error') return false; // bad name characters and the like
        throw err;
      }
    },
  };
}
