/**
 * The web part's tables in `SPOOL/data.sqlite` (component 'web').
 *
 * A fresh site starts as OpenACS installs do: a root node readable by the
 * public, plus loncapad's own pages. Login and logout do not inherit and carry
 * their own public grant, so an operator who closes the root
 * (`site revoke / public read`) still leaves users a way to log in.
 */
import { migrate, type Db } from '../store/sqlite';

const WEB_COMPONENT = 'web';

const WEB_SCHEMA: readonly string[] = [
  `CREATE TABLE site_nodes (
     node_id       INTEGER PRIMARY KEY,
     url           TEXT NOT NULL UNIQUE,
     package_key   TEXT NOT NULL,
     instance_name TEXT NOT NULL,
     pattern       INTEGER NOT NULL CHECK (pattern IN (0, 1)),
     inherit       INTEGER NOT NULL CHECK (inherit IN (0, 1)));
   CREATE TABLE site_grants (
     node_id   INTEGER NOT NULL REFERENCES site_nodes (node_id) ON DELETE CASCADE,
     party     TEXT NOT NULL,
     privilege TEXT NOT NULL CHECK (privilege IN ('read', 'admin')),
     PRIMARY KEY (node_id, party, privilege)) WITHOUT ROWID;
   CREATE TABLE web_session_seq (
     only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
     next_id  INTEGER NOT NULL);
   INSERT INTO web_session_seq (only_row, next_id) VALUES (1, 1);
   CREATE TABLE web_revoked_sessions (
     session_id INTEGER PRIMARY KEY,
     expires_at INTEGER NOT NULL);
   INSERT INTO site_nodes (node_id, url, package_key, instance_name, pattern, inherit) VALUES
     (1, '/', '', 'Main Site', 1, 1),
     (2, '/login/', 'login', 'Login', 1, 0),
     (3, '/logout/', 'logout', 'Logout', 1, 0),
     (4, '/status/', 'status', 'Server status', 1, 1);
   INSERT INTO site_grants (node_id, party, privilege) VALUES
     (1, 'public', 'read'),
     (2, 'public', 'read'),
     (3, 'public', 'read');`,
];

/** Idempotent: every part that owns web tables calls it before preparing statements. */
export function prepareWebTables(db: Db): void {
  migrate(db, WEB_COMPONENT, WEB_SCHEMA);
}
