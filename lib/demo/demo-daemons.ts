/**
 * The demo's daemons: each a `bin/loncapad start` child process on its own
 * loopback address, its log in `DIR/<lonid>.log`. Started one at a time and
 * ready when it prints its `ready` line; stopped with SIGTERM, waiting for
 * each to exit. A daemon that exits while the demo runs (an operator's `kill`,
 * step 1 of the guide) is reported through `onExit` and can be started again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LoncapadError } from '../errors';

const BIN = resolve(__dirname, '../../../bin/loncapad');

/** A daemon that has not exited this long after SIGTERM is killed (its own shutdown grace is 5 s). */
const STOP_GRACE_MS = 10_000;
/** Log lines shown when a daemon fails to start. */
const FAILURE_LOG_LINES = 5;

export interface DemoHost {
  readonly id: string;
  readonly role: 'library' | 'access';
  readonly ip: string;
  readonly spool: string;
}

export interface DemoDaemonsOptions {
  readonly dir: string;
  readonly hostsFile: string;
  readonly port: number;
  readonly httpPort: number;
  /** A daemon exited while it was not being stopped. */
  readonly onExit: (host: DemoHost, how: string) => void;
}

export class DemoDaemons {
  readonly #o: DemoDaemonsOptions;
  readonly #running = new Map<string, ChildProcess>();
  #stopping = false;

  constructor(options: DemoDaemonsOptions) {
    this.#o = options;
  }

  logFile(host: DemoHost): string {
    return join(this.#o.dir, `${host.id}.log`);
  }

  pid(host: DemoHost): number | undefined {
    return this.#running.get(host.id)?.pid;
  }

  isRunning(host: DemoHost): boolean {
    return this.#running.has(host.id);
  }

  /** Start `host` and wait for its `ready` line; rejects (naming the log) if it exits first. */
  async start(host: DemoHost): Promise<number> {
    const o = this.#o;
    if (this.#stopping) throw new LoncapadError('LC_ERR_NOT_RUNNING', 'the demo is stopping');
    const log = openSync(this.logFile(host), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        process.execPath,
        [BIN, 'start', '--host-id', host.id, '--spool', host.spool, '--hosts', o.hostsFile, '--port', String(o.port), '--http-port', String(o.httpPort)],
        { stdio: ['ignore', 'pipe', log] },
      );
    } finally {
      closeSync(log);
    }
    await new Promise<void>((resolveReady, reject) => {
      let out = '';
      const childOnData = (text: string): void => {
        out += text;
        if (!out.includes('ready ')) return;
        child.stdout!.off('data', childOnData);
        child.off('exit', childOnEarlyExit);
        resolveReady();
      };
      const childOnEarlyExit = (): void => {
        const tail = readFileSync(this.logFile(host), 'utf8').trimEnd().split('\n').slice(-FAILURE_LOG_LINES).join('\n  ');
        reject(new LoncapadError('LC_ERR_CONFIG', `${host.id} did not start (its log, ${this.logFile(host)}, ends):\n  ${tail}`));
      };
      child.stdout!.setEncoding('utf8').on('data', childOnData);
      child.once('exit', childOnEarlyExit);
    });
    child.stdout!.resume();
    if (this.#stopping) {
      // stopAll ran while this one was starting: it was not among those it stopped.
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      throw new LoncapadError('LC_ERR_NOT_RUNNING', 'the demo is stopping');
    }
    this.#running.set(host.id, child);
    child.once('exit', (code, signal) => {
      this.#running.delete(host.id);
      if (!this.#stopping) this.#o.onExit(host, signal ? `signal ${signal}` : `exit code ${code}`);
    });
    return child.pid!;
  }

  /** SIGTERM every running daemon and wait until each has exited. */
  async stopAll(): Promise<string[]> {
    this.#stopping = true;
    const stopped: string[] = [];
    await Promise.all(
      [...this.#running].map(async ([id, child]) => {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const expiredGrace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(expiredGrace);
        stopped.push(id);
      }),
    );
    return stopped.sort();
  }
}
