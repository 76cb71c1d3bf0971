/**
 * The far end of the NATS side-by-side figure (nats.ts): a second NATS
 * connection, in a process of its own, that answers every request on
 * NATS_SUBJECT. It plays the part daemon B plays in loncapad's ping:
 *
 *   client (bench process) → nats-server → this responder → nats-server → client
 *
 *   node nats-responder.js <port>     prints `ready` once subscribed
 */
import { connect } from 'nats';

export const NATS_SUBJECT = 'bench.ping';
/** What the responder answers: a short word, as loncapad's ping answers its lonid. */
export const NATS_REPLY = 'nats';

async function main(port: number): Promise<void> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, name: 'bench-responder' });
  const reply = Buffer.from(NATS_REPLY);
  nc.subscribe(NATS_SUBJECT, {
    callback: (err, msg) => {
      if (!err) msg.respond(reply);
    },
  });
  // The subscription is known to the server once flush returns: requests sent after `ready` find it.
  await nc.flush();
  process.stdout.write('ready\n');
  // The driver kills this process when it is done; a closed server connection ends it too.
  await nc.closed();
}

if (require.main === module) {
  main(Number(process.argv[2])).catch((err: Error) => {
    process.stderr.write(`nats responder: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
