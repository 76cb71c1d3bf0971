/**
 * What `loncapad demo` prints once its network runs: the servers (pid, web
 * URL), the logins, and three things to try with the exact commands. A pure
 * function of the running network, so its text is tested as printed.
 */
import type { DemoLogin } from './demo-setup';
import { DEMO_DOMAIN, DEMO_RESOURCE } from './demo-setup';
import type { DemoHost } from './demo-daemons';

export interface GuideServer extends DemoHost {
  readonly pid: number;
}

export interface GuideInput {
  readonly dir: string;
  readonly servers: readonly GuideServer[];
  readonly port: number;
  readonly httpPort: number;
  readonly logins: readonly DemoLogin[];
}

export function webUrl(ip: string, httpPort: number, path = '/'): string {
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${httpPort}${path}`;
}

export function demoGuide(g: GuideInput): string {
  const library = g.servers.find((s) => s.role === 'library')!;
  const access = g.servers.find((s) => s.role === 'access')!;
  const idWidth = Math.max(...g.servers.map((s) => s.id.length));
  const userWidth = Math.max(...g.logins.map((l) => l.user.length));
  const passwordWidth = Math.max(...g.logins.map((l) => l.password.length));
  const lc = 'npx loncapad';
  const accessSpool = `--spool ${access.spool}`;
  const lines = [
    `loncapad demo: ${g.servers.length} servers of domain ${DEMO_DOMAIN} on this machine, state in ${g.dir}`,
    '',
    ...g.servers.map(
      (s) => `  ${s.id.padEnd(idWidth)}  ${s.role.padEnd(7)}  pid ${s.pid}  ${webUrl(s.ip, g.httpPort)}  (peers: ${s.ip}:${g.port}, log: ${g.dir}/${s.id}.log)`,
    ),
    '',
    `Logins (domain ${DEMO_DOMAIN}, home server ${library.id}; log in at ${webUrl(access.ip, g.httpPort, '/login/')}):`,
    ...g.logins.map((l) => `  ${l.user.padEnd(userWidth)}  ${l.password.padEnd(passwordWidth)}  ${l.note}`),
    '',
    `A published resource, copied from ${library.id} to ${access.id} when first read: ${webUrl(access.ip, g.httpPort, DEMO_RESOURCE)}`,
    `  (${lc} res stats ${accessSpool} counts the fetch; ${lc} res subscribers ${DEMO_RESOURCE} --spool ${library.spool} shows ${access.id})`,
    '',
    'Three things to try:',
    '',
    `1. A critical write while the library server is stopped: it waits in ${access.id}'s spool and`,
    '   is delivered, in order and once, when the server returns. In another terminal:',
    `     kill ${library.pid}                       # stop ${library.id}; this demo notices`,
    `     ${lc} call ${accessSpool} --critical ${library.id} 'put:${DEMO_DOMAIN}:amy:grades:hw3=9'   # → con_delayed`,
    `     ${lc} spool list ${accessSpool}   # what waits for whom`,
    `   then press Enter here: the demo starts ${library.id} again, and ${access.id} replays its spool.`,
    `     ${lc} call ${accessSpool} ${library.id} 'get:${DEMO_DOMAIN}:amy:grades:hw3'   # → 9`,
    '',
    `2. The status page (log in as admin first): ${webUrl(access.ip, g.httpPort, '/status/')}`,
    '',
    `3. The metrics (Prometheus text; open to this machine): curl ${webUrl(access.ip, g.httpPort, '/metrics')}`,
    '',
    `Ctrl-C stops every server of the demo; the state stays in ${g.dir}.`,
    '',
  ];
  return lines.join('\n');
}
