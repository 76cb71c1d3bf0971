/**
 * A failed listen() told in the operator's terms: which address, why, and
 * which setting to change. Node's own text ("listen EADDRINUSE: address
 * already in use 127.0.0.1:8080") leaves out which of the daemon's two TCP
 * ports it was.
 */
import { LoncapadError } from '../errors';

/** The settings behind the daemon's listening ports. */
export type PortSetting = '--port' | '--http-port';

export function listenError(err: unknown, setting: PortSetting, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const what = setting === '--port' ? 'the peer port' : 'the web port';
  switch (code) {
    case 'EADDRINUSE':
      return new LoncapadError(
        'LC_ERR_CONFIG',
        `${address} (${what}) is already in use by another program or another loncapad: change ${setting}, or stop the other one`,
        { cause: err },
      );
    case 'EACCES':
      return new LoncapadError(
        'LC_ERR_CONFIG',
        `${address} (${what}): port ${port} needs privileges this process does not have: choose ${setting} 1024 or above, or grant CAP_NET_BIND_SERVICE`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new LoncapadError(
        'LC_ERR_CONFIG',
        `${host} is not an address of this machine: correct this host's line in the hosts table (or --ip for the one-host network)`,
        { cause: err },
      );
    default:
      return err;
  }
}
