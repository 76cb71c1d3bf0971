/**
 * What the demo network holds once it runs, made through the client library
 * as any local program would:
 *
 *   1. users of domain `demo` on the library server, with internal passwords
 *      (kept in DIR/logins.json, 0600, so a demo started again on the same
 *      directory prints the same logins);
 *   2. a few records (grades, environment) on their home server;
 *   3. `admin:demo` made admin of `/` on every server's site map (the status
 *      page and /metrics for a logged-in admin);
 *   4. (once resource replication lands: publish a resource on the library
 *      server here, and print its URL on an access server in the guide.)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '../client/connection';
import { Lonnet, LonnetError } from '../client/lonnet';
import type { DemoHost } from './demo-daemons';

export const DEMO_DOMAIN = 'demo';

export interface DemoLogin {
  readonly user: string;
  readonly password: string;
  readonly note: string;
}

const USERS: ReadonlyArray<{ user: string; note: string }> = [
  { user: 'admin', note: 'admin of / on every server: the status page, /metrics' },
  { user: 'amy', note: 'a student: grades hw1, hw2' },
  { user: 'ben', note: 'a student: grades hw1' },
];

const RECORDS: ReadonlyArray<{ user: string; ns: string; values: Record<string, string> }> = [
  { user: 'amy', ns: 'grades', values: { hw1: '10', hw2: '7' } },
  { user: 'amy', ns: 'environment', values: { firstname: 'Amy', lastname: 'Adams' } },
  { user: 'ben', ns: 'grades', values: { hw1: '8' } },
  { user: 'ben', ns: 'environment', values: { firstname: 'Ben', lastname: 'Baker' } },
];

/** The logins of this demo directory: read back, or made up and saved. */
export function demoLogins(dir: string): DemoLogin[] {
  const file = join(dir, 'logins.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoLogin[];
  const logins = USERS.map(({ user, note }) => ({ user, note, password: randomBytes(9).toString('base64url') }));
  writeFileSync(file, JSON.stringify(logins, null, 2) + '\n', { mode: 0o600 });
  return logins;
}

/** Steps 1–3 above; each is idempotent, so a demo directory can be started again. */
export async function populateDemo(library: DemoHost, servers: readonly DemoHost[], logins: readonly DemoLogin[]): Promise<void> {
  const client = await connect({ spool: library.spool });
  try {
    const lonnet = new Lonnet(client);
    for (const { user, password } of logins) {
      try {
        await lonnet.makeuser('.', DEMO_DOMAIN, user, 'internal', password);
      } catch (err) {
        if (!(err instanceof LonnetError) || err.reply !== 'error:already_exists') throw err;
      }
    }
    for (const r of RECORDS) await lonnet.put('.', DEMO_DOMAIN, r.user, r.ns, r.values);
  } finally {
    await client.close();
  }
  for (const server of servers) {
    const c = await connect({ spool: server.spool });
    try {
      const reply = await c.admin(`site:grant:${JSON.stringify(['/', `admin:${DEMO_DOMAIN}`, 'admin'])}`);
      if (reply.startsWith('error:')) throw new Error(`${server.id}: site grant: ${reply}`);
    } finally {
      await c.close();
    }
  }
}
