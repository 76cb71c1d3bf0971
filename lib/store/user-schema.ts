/**
 * Schema of the user store in `SPOOL/data.sqlite`, one step per version
 * (applied by `migrate` under the component name `user-store`). Never edit a
 * released step: add one. docs/store.md describes every table for operators.
 */
export const USER_STORE_SCHEMA: readonly string[] = [
  `CREATE TABLE users (
     domain     TEXT NOT NULL,
     name       TEXT NOT NULL,
     auth_type  TEXT NOT NULL,
     auth_arg   TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (domain, name)) WITHOUT ROWID;
   CREATE TABLE kv (
     domain TEXT NOT NULL,
     name   TEXT NOT NULL,
     ns     TEXT NOT NULL,
     key    TEXT NOT NULL,
     value  TEXT NOT NULL,
     PRIMARY KEY (domain, name, ns, key)) WITHOUT ROWID;
   CREATE TABLE history (
     id      INTEGER PRIMARY KEY,
     domain  TEXT NOT NULL,
     name    TEXT NOT NULL,
     ns      TEXT NOT NULL,
     op      TEXT NOT NULL,
     at      INTEGER NOT NULL,
     by_host TEXT NOT NULL,
     payload TEXT NOT NULL);
   CREATE INDEX history_by_user ON history (domain, name, ns, id);
   CREATE TABLE activity (
     id      INTEGER PRIMARY KEY,
     domain  TEXT NOT NULL,
     name    TEXT NOT NULL,
     at      INTEGER NOT NULL,
     by_host TEXT NOT NULL,
     text    TEXT NOT NULL);
   CREATE INDEX activity_by_user ON activity (domain, name, id);
   CREATE TABLE applied (
     msgid TEXT PRIMARY KEY,
     reply TEXT NOT NULL,
     at    INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX applied_by_age ON applied (at);`,

  // store/restore versions, the domain id map, short-lived blobs, and who
  // (user, not host) made a role change. records and tmp keep rowids: their
  // rows can be large, which WITHOUT ROWID tables handle badly.
  `ALTER TABLE history ADD COLUMN executor TEXT;
   CREATE TABLE records (
     id      INTEGER PRIMARY KEY,
     domain  TEXT NOT NULL,
     name    TEXT NOT NULL,
     ns      TEXT NOT NULL,
     rid     TEXT NOT NULL,
     version INTEGER NOT NULL,
     at      INTEGER NOT NULL,
     by_host TEXT NOT NULL,
     pairs   TEXT NOT NULL,
     UNIQUE (domain, name, ns, rid, version));
   CREATE TABLE ids (
     domain TEXT NOT NULL,
     id     TEXT NOT NULL,
     name   TEXT NOT NULL,
     PRIMARY KEY (domain, id)) WITHOUT ROWID;
   CREATE TABLE tmp (
     id         TEXT PRIMARY KEY,
     data       TEXT NOT NULL,
     by_host    TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL);
   CREATE INDEX tmp_by_expiry ON tmp (expires_at);`,

  // Applied ids are scoped by the authenticated sender: one host can no
  // longer pre-record (or read back) another host's message ids. Rows from
  // before this step do not say who sent them; they keep answering for any
  // sender ('*') until they age out with the rest.
  `CREATE TABLE applied_by_sender (
     sender TEXT NOT NULL,
     msgid  TEXT NOT NULL,
     reply  TEXT NOT NULL,
     at     INTEGER NOT NULL,
     PRIMARY KEY (sender, msgid)) WITHOUT ROWID;
   INSERT INTO applied_by_sender (sender, msgid, reply, at) SELECT '*', msgid, reply, at FROM applied;
   DROP TABLE applied;
   ALTER TABLE applied_by_sender RENAME TO applied;
   CREATE INDEX applied_by_age ON applied (at);`,

  // Each user's auth token: a random value replaced whenever her
  // authentication changes (passwd, changeuserauth). Web sessions carry the
  // token they were opened with, so a password change ends them. Not a
  // secret: it only names one epoch of her authentication.
  `ALTER TABLE users ADD COLUMN auth_token TEXT NOT NULL DEFAULT '';
   UPDATE users SET auth_token = lower(hex(randomblob(8)));`,

  // Per-user storage usage for the quota, kept by every write in its own
  // transaction (usage-table.ts); counted here once from what is stored.
  // Escaped text is ASCII, so length() is bytes; activity text may not be.
  // History of the domain id map (name '') belongs to no user.
  `CREATE TABLE usage (
     domain TEXT NOT NULL,
     name   TEXT NOT NULL,
     bytes  INTEGER NOT NULL,
     PRIMARY KEY (domain, name)) WITHOUT ROWID;
   INSERT INTO usage (domain, name, bytes)
     SELECT domain, name, sum(bytes) FROM (
       SELECT domain, name, sum(length(key) + length(value)) AS bytes FROM kv GROUP BY domain, name
       UNION ALL SELECT domain, name, sum(length(rid) + length(pairs)) FROM records GROUP BY domain, name
       UNION ALL SELECT domain, name, sum(length(payload)) FROM history WHERE name <> '' GROUP BY domain, name
       UNION ALL SELECT domain, name, sum(length(CAST(text AS BLOB))) FROM activity GROUP BY domain, name)
     GROUP BY domain, name;`,

  // Runs of applied ids: a sender's consecutive ids of one daemon run
  // (`<run>.<counter>`, lib/wire/msgid.ts) that got the same reply, one row
  // a run instead of one a message (applied-table.ts). A replay of 100,000
  // messages writes a few hundred rows here instead of 100,000 in `applied`.
  `CREATE TABLE applied_runs (
     sender TEXT NOT NULL,
     run    TEXT NOT NULL,
     first  INTEGER NOT NULL,
     last   INTEGER NOT NULL,
     reply  TEXT NOT NULL,
     at     INTEGER NOT NULL,
     PRIMARY KEY (sender, run, first)) WITHOUT ROWID;
   CREATE INDEX applied_runs_by_age ON applied_runs (at);`,
];
