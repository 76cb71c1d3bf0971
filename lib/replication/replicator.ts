/**
 * The subscriber side of dynamic replication (classic D1–D7, U2–U6).
 *
 *   ensure(url)  no local copy: find the author's home (D2) ─▶ sub (D3) ─▶
 *                not_found / rejected / directory end here ─▶ receive the copy
 *                over the peer link into <file>.in.transfer (D5) ─▶ size and
 *                SHA-256 checked ─▶ rename over the old copy, then its .meta
 *                (D7) ─▶ the copy is recorded (origin, version, digest)
 *                Concurrent callers for one URL share one transfer.
 *
 *   update(url)  from the home (U1): not ours / no copy ─▶ rejected / not_found;
 *                not read within the expiry ─▶ copy and .meta deleted,
 *                unsub sent to the home (critical), ok (U3);
 *                otherwise the new version is fetched as above and `ok` is
 *                answered only once it is installed (U4–U6); a failed
 *                re-fetch answers a transient failure, so the home's spool
 *                tries again (classic answered ok and kept the stale copy).
 *
 * Readers never see a partial file: bytes land in the work file, and only a
 * rename (atomic) makes them the copy.
 */
import { rename } from 'node:fs/promises';
import { NO_HOST } from '../client/lonnet';
import { transientReply } from '../errors';
import type { Logger } from '../log';
import { resourceFile, type ResourcePath } from '../store/resource-files';
import { Budget } from './budget';
import { removeQuietly, writeFileAtomic } from './files';
import { OK, refusalOf, TransferFailed, unavailable, type Outcome } from './outcome';
import type { ReplicaTable } from './replicas';
import { SingleFlight } from './single-flight';
import type { ReplicationStats } from './stats';
import { receiveCopy } from './transfer-client';

/** Chunk requests in flight to one home, across all transfers from it. */
const CHUNKS_IN_FLIGHT_PER_HOME = 8;
const RAW_URL_RE = /^https?:\/\//;

export interface ReplicatorDeps {
  readonly root: string;
  readonly selfId: () => string;
  readonly replicas: ReplicaTable;
  readonly stats: ReplicationStats;
  /** The author's home server: its lonid, or `no_host`; throws when a library server could not be asked. */
  readonly homeOf: (p: ResourcePath) => Promise<string>;
  /** Is this host the home of the resource's author? */
  readonly isHomeHere: (p: ResourcePath) => boolean;
  /** A command to a peer; the classic reply, never a rejection. */
  readonly ask: (peer: string, command: string) => Promise<string>;
  /** A critical message to a peer (spooled if it cannot be delivered now). */
  readonly critical: (peer: string, command: string) => Promise<string>;
  /** Copies not read for this long are dropped when an update comes, ms. */
  readonly expireMs: () => number;
  readonly log: Logger;
}

export class Replicator {
  readonly #d: ReplicatorDeps;
  readonly #flights = new SingleFlight<Outcome>();
  readonly #budgets = new Map<string, Budget>();

  constructor(deps: ReplicatorDeps) {
    this.#d = deps;
  }

  /** Make sure a copy of `p` is here (first access). */
  ensure(p: ResourcePath): Promise<Outcome> {
    const { result, joined } = this.#flights.run(p.url, () => this.#replicate(p, undefined, true));
    if (joined) this.#d.stats.joined++;
    return result;
  }

  /** `update:<url>` from `caller`; the classic reply. */
  async update(p: ResourcePath, caller: string): Promise<string> {
    const d = this.#d;
    if (d.isHomeHere(p)) return 'rejected';
    const replica = d.replicas.get(p.url);
    if (replica === undefined) return 'not_found';
    if (replica.origin !== caller) {
      d.log.warn(`replication: update of ${p.url} from ${caller} refused: the copy came from ${replica.origin}`);
      return 'rejected';
    }
    if (Date.now() - replica.lastAccess > d.expireMs()) {
      await this.drop(p);
      d.stats.expired++;
      d.log.info(`replication: ${p.url} not read since ${new Date(replica.lastAccess).toISOString()}: dropped, unsubscribing`);
      void d.critical(caller, `unsub:${p.url}`).then((reply) => d.log.info(`replication: unsub ${p.url} at ${caller}: ${reply}`));
      return 'ok';
    }
    const outcome = await this.#refresh(p, caller);
    switch (outcome.kind) {
      case 'ok':
        d.stats.updatesApplied++;
        return 'ok';
      case 'not_found':
      case 'rejected':
      case 'directory':
        // The home no longer has it as a file: our copy would never be right again.
        await this.drop(p);
        d.stats.updatesApplied++;
        d.log.info(`replication: update of ${p.url}: the home answered ${outcome.kind}; copy dropped`);
        return 'ok';
      case 'unavailable':
        d.stats.updatesFailed++;
        d.log.warn(`replication: update of ${p.url} failed (the home will retry): ${outcome.why}`);
        return transientReply(`re-fetch of ${p.url} failed: ${outcome.why}`);
      default: {
        const never: never = outcome;
        return never;
      }
    }
  }

  /** Delete the copy, its .meta and its record. */
  async drop(p: ResourcePath): Promise<void> {
    const file = resourceFile(this.#d.root, p);
    await removeQuietly(file, `${file}.meta`);
    this.#d.replicas.remove(p.url);
  }

  /** Wait for every transfer running now (stop). */
  settled(): Promise<void> {
    return this.#flights.settled();
  }

  /**
   * Fetch again after the transfer that was running when the update came
   * (it may carry the old version); a transfer started after that one is
   * fresh enough, so we join it.
   */
  async #refresh(p: ResourcePath, home: string): Promise<Outcome> {
    const stale = this.#flights.running(p.url);
    if (stale !== undefined) await stale;
    return this.#flights.run(p.url, () => this.#replicate(p, home, false)).result;
  }

  async #replicate(p: ResourcePath, knownHome: string | undefined, firstAccess: boolean): Promise<Outcome> {
    const d = this.#d;
    let home = knownHome;
    if (home === undefined) {
      try {
        home = await d.homeOf(p);
      } catch (err) {
        d.log.warn(`replication: ${p.url}: the home server of ${p.author}:${p.domain} could not be found (${(err as Error).message})`);
        return unavailable('home server unreachable');
      }
    }
    if (home === NO_HOST || home === d.selfId()) return { kind: 'not_found' };
    const sub = await d.ask(home, `sub:${p.url}`);
    const refusal = refusalOf(sub);
    if (refusal !== undefined) return refusal;
    if (!RAW_URL_RE.test(sub)) {
      d.log.warn(`replication: ${p.url}: ${home} answered sub with ${sub.slice(0, 100)}`);
      return unavailable(`${home} answered sub with ${sub.slice(0, 100)}`);
    }
    const file = resourceFile(d.root, p);
    const work = `${file}.in.transfer`;
    try {
      const copy = await receiveCopy({ ask: (c) => d.ask(home, c), url: p.url, work, budget: this.#budgetOf(home) });
      await rename(work, file);
      if (copy.meta === '') await removeQuietly(`${file}.meta`);
      else await writeFileAtomic(`${file}.meta`, copy.meta, `${file}.meta.in.transfer`);
      const now = Date.now();
      const before = d.replicas.get(p.url);
      d.replicas.record({
        url: p.url,
        origin: home,
        version: copy.version,
        size: copy.size,
        sha256: copy.sha256,
        fetchedAt: now,
        lastAccess: firstAccess || before === undefined ? now : before.lastAccess,
      });
      d.stats.fetches++;
      d.stats.fetchBytes += copy.size;
      d.log.info(`replication: ${p.url} version ${copy.version} (${copy.size} bytes) installed from ${home}`);
      return OK;
    } catch (err) {
      await removeQuietly(work);
      if (err instanceof TransferFailed) {
        d.log.warn(`replication: ${p.url} from ${home}: ${err.message}; nothing installed`);
        return err.outcome;
      }
      d.log.error(`replication: ${p.url} from ${home}: ${(err as Error).message}; nothing installed`);
      return unavailable((err as Error).message);
    }
  }

  #budgetOf(home: string): Budget {
    let b = this.#budgets.get(home);
    if (b === undefined) this.#budgets.set(home, (b = new Budget(CHUNKS_IN_FLIGHT_PER_HOME)));
    return b;
  }
}
