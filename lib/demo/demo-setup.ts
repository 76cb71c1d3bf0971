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
 *   4. a resource published on the library server (the home of its author,
 *      admin), which an access server copies on first read (DEMO_RESOURCE).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '../client/connection';
import { Lonnet, LonnetError } from '../client/lonnet';
import type { DemoHost } from './demo-daemons';

export const DEMO_DOMAIN = 'demo';
/** Published by step 4; its author is `admin`, who lives on the library server. */
export const DEMO_RESOURCE = `/res/${'demo'}/admin/intro/welcome.html`;

const WELCOME = `<!doctype html>
<title>Welcome</title>
<h1>Welcome to the loncapad demo</h1>
<p>This page was published on the library server and copied to this server when it was first read.</p>
`;

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

/** Steps 1–4 above; each is idempotent, so a demo directory can be started again. */
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
    if ((await client.reply('.', `currentversion:${DEMO_RESOURCE}`)) === '-1') {
      const src = join(library.spool, 'welcome.html');
      writeFileSync(src, WELCOME);
      const reply = await client.admin(`res:publish:${JSON.stringify([src, DEMO_RESOURCE, 'Welcome'])}`);
      if (reply.startsWith('error:') || reply === 'refused') throw new Error(`${library.id}: res publish: ${reply}`);
    }
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
