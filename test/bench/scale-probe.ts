/**
 * A probe the scale bench loads into the daemon under test with
 * `node --require build/test/bench/scale-probe.js` (the daemon's own code
 * knows nothing of it, and it does nothing until asked): on SIGUSR2 it
 * reads one command from `$LCD_PROBE_DIR/cmd`, runs it, and writes its
 * answer to `$LCD_PROBE_DIR/out.json` (renamed into place, so the driver
 * never reads half a file).
 *
 *   mem                 full GC, then process.memoryUsage(), the V8 heap
 *                       spaces, and the process's active handles and timers
 *                       by type (process.getActiveResourcesInfo)
 *   prof-start          start the V8 CPU profiler (inspector, in-process)
 *   prof-stop <file>    stop it and write the .cpuprofile to <file>
 *   heap <file>         full GC, then a heap snapshot to <file>
 *   eld-start           start measuring the event loop's delay (how late a
 *                       10 ms timer fires: the loop was blocked that long)
 *   eld                 its percentiles and maximum since then, ms; stops it
 *
 * With LCD_PROBE_ELD=1 the loop delay is measured from the start (a
 * restart's first moments). It is off otherwise: its timer would count in
 * the idle CPU figure.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

const DIR = process.env.LCD_PROBE_DIR;

/** A full GC without starting node with --expose-gc (which NODE_OPTIONS does not allow). */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function resourcesByType(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

let session: Session | undefined;
let loopDelay: IntervalHistogram | undefined;

function startLoopDelay(): void {
  loopDelay?.disable();
  loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
}
if (DIR && process.env.LCD_PROBE_ELD === '1') startLoopDelay();

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

async function run(cmd: string, arg: string | undefined): Promise<unknown> {
  switch (cmd) {
    case 'mem':
      fullGc();
      return {
        memory: process.memoryUsage(),
        spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size])),
        resources: resourcesByType(),
      };
    case 'prof-start':
      session = new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.start');
      return { started: true };
    case 'prof-stop': {
      const { profile } = await post<{ profile: unknown }>('Profiler.stop');
      writeFileSync(arg!, JSON.stringify(profile));
      session!.disconnect();
      session = undefined;
      return { written: arg };
    }
    case 'eld-start':
      startLoopDelay();
      return { started: true };
    case 'eld': {
      const h = loopDelay;
      if (!h) throw new Error('eld-start first');
      h.disable();
      loopDelay = undefined;
      const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
      return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), count: h.count };
    }
    case 'heap':
      fullGc();
      return { written: writeHeapSnapshot(arg) };
    default:
      throw new Error(`unknown probe command ${cmd}`);
  }
}

if (DIR) {
  process.on('SIGUSR2', () => {
    const [cmd, arg] = readFileSync(join(DIR, 'cmd'), 'utf8').trim().split(' ');
    const answer = (body: unknown): void => {
      writeFileSync(join(DIR, 'out.tmp'), JSON.stringify(body));
      renameSync(join(DIR, 'out.tmp'), join(DIR, 'out.json'));
    };
    run(cmd!, arg).then(answer, (err: Error) => answer({ error: err.message }));
  });
}
