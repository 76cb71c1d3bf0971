/**
 * Tables of component `replication` in `SPOOL/data.sqlite` (applied by
 * `migrate`; never edit a released step, add one). docs/replication.md
 * describes them for operators.
 *
 *   res_subscriptions  on a home: who holds a copy of which resource
 *                      (classic `<file>.subscription`, one row per host)
 *   res_replicas       on a subscriber: the copies it holds, where from,
 *                      which version, when last read
 *   (step 2)           `/res/` and `/raw/` mounted in the site map
 */
import { migrate, type Db } from '../store/sqlite';
import { prepareWebTables } from '../web';

export const REPLICATION_SCHEMA: readonly string[] = [
  `CREATE TABLE res_subscriptions (
     url   TEXT NOT NULL,
     host  TEXT NOT NULL,
     ip    TEXT NOT NULL,
     since INTEGER NOT NULL,
     PRIMARY KEY (url, host)) WITHOUT ROWID;
   CREATE TABLE res_replicas (
     url         TEXT PRIMARY KEY,
     origin      TEXT NOT NULL,
     version     INTEGER NOT NULL,
     size        INTEGER NOT NULL,
     sha256      TEXT NOT NULL,
     fetched_at  INTEGER NOT NULL,
     last_access INTEGER NOT NULL) WITHOUT ROWID;`,
  // The fresh site serves resources: /res/ inherits (as public as the site);
  // /raw/ is for classic peers, whose check is the subscriber's address, so it
  // stays open when an operator closes the site. An existing node is kept.
  `INSERT OR IGNORE INTO site_nodes (url, package_key, instance_name, pattern, inherit) VALUES
     ('/res/', 'res', 'Resources', 1, 1),
     ('/raw/', 'raw', 'Resources for classic peers', 1, 0);
   INSERT OR IGNORE INTO site_grants (node_id, party, privilege)
     SELECT node_id, 'public', 'read' FROM site_nodes WHERE url = '/raw/' AND package_key = 'raw';`,
];

/** Step 2 mounts the `res` package in the site map, so the web tables come first. */
export function prepareReplicationTables(db: Db): void {
  prepareWebTables(db);
  migrate(db, 'replication', REPLICATION_SCHEMA);
}
