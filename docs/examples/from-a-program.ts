/**
 * From a program: record a grade on a student's home server, as a critical
 * write (delivered even if her home server is down right now).
 *
 *   node from-a-program.js <spool> <user> <domain> <grade>
 *
 * Compiled and run against a real daemon by test/examples.test.ts. It needs
 * `loncapad` and, for TypeScript, `@types/node` (the declarations name Node's
 * Buffer and sockets).
 */
import { connect, homeServer, Lonnet, NO_HOST, type HostInfo } from 'loncapad';

async function recordGrade(spool: string, user: string, domain: string, grade: string): Promise<string> {
  const c = await connect({ spool }); // the local daemon's socket, <spool>/loncapad.sock
  try {
    const net = new Lonnet(c);
    const hosts = JSON.parse(await c.admin('hosts')) as HostInfo[]; // the daemon's hosts table
    const home = await homeServer(c, hosts, user, domain); // asks every library server of her domain
    if (home === NO_HOST) return `no library server of ${domain} claims ${user}`;
    const ack = await net.put(home, domain, user, 'grades', { hw1: grade }, { critical: true });
    return `${user}'s hw1 on ${home}: ${ack}`; // ok, or con_delayed: spooled, delivered when the home returns
  } finally {
    await c.close();
  }
}

const [spool = '/var/lib/loncapad', user = 'amy', domain = 'msu', grade = '10'] = process.argv.slice(2);
recordGrade(spool, user, domain, grade).then(
  (line) => console.log(line),
  (err: Error) => {
    console.error(`from-a-program: ${err.message}`);
    process.exitCode = 1;
  },
);
