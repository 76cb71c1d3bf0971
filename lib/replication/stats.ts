/** Counters of this host's replication, as `loncapad res stats` shows them. */
export class ReplicationStats {
  /** Copies received and installed. */
  fetches = 0;
  /** Bytes of those copies. */
  fetchBytes = 0;
  /** Requests that waited on a fetch already running instead of starting one. */
  joined = 0;
  /** `/raw/` downloads served to classic callers. */
  rawServed = 0;
  /** `update` notifications applied (new version installed, or the copy dropped). */
  updatesApplied = 0;
  /** `update` notifications answered with a transient failure (the home retries them). */
  updatesFailed = 0;
  /** Unused copies dropped (and unsubscribed) when an update came. */
  expired = 0;

  toJSON(): Record<string, number> {
    return {
      fetches: this.fetches,
      fetchBytes: this.fetchBytes,
      joined: this.joined,
      rawServed: this.rawServed,
      updatesApplied: this.updatesApplied,
      updatesFailed: this.updatesFailed,
      expired: this.expired,
    };
  }
}
