/**
 * `loncapad site mount|unmount|move|list|grant|revoke`, as the daemon runs them
 * on the live site map (the arguments arrive as a JSON array from the CLI).
 */
import { badArgs } from '../errors';
import type { SiteMap } from './site-map';

export function runSiteOp(map: SiteMap, op: string, args: readonly unknown[]): unknown {
  const str = (i: number): string => {
    if (typeof args[i] !== 'string') throw badArgs(`site ${op}: argument ${i + 1} missing`);
    return args[i] as string;
  };
  switch (op) {
    case 'mount': {
      const o = (args[2] ?? {}) as { pattern?: boolean; inherit?: boolean; instanceName?: string };
      return map.mount(str(0), str(1), {
        ...(o.pattern === false ? { pattern: false } : {}),
        ...(o.inherit === false ? { inherit: false } : {}),
        ...(typeof o.instanceName === 'string' ? { instanceName: o.instanceName } : {}),
      });
    }
    case 'unmount':
      return { removed: map.unmount(str(0)) };
    case 'move':
      return map.move(str(0), str(1));
    case 'list':
      return map.list();
    case 'grant':
      map.grant(str(0), str(1), str(2));
      return { granted: true };
    case 'revoke':
      return { revoked: map.revoke(str(0), str(1), str(2)) };
    default:
      throw badArgs(`unknown site operation "${op}" (mount, unmount, move, list, grant, revoke)`);
  }
}
