/**
 * `SPOOL/spool.sqlite`: the critical FIFO. Documented in docs/spool.md so an
 * operator can answer "what waits for whom, since when" with sqlite3:
 *
 *   sqlite3 spool/spool.sqlite 'SELECT * FROM queue_summary'
 *
 * Times are milliseconds since the epoch (the views show them readable).
 */
export const SPOOL_SCHEMA: readonly string[] = [
  `CREATE TABLE queue (
     seq         INTEGER PRIMARY KEY AUTOINCREMENT, -- FIFO order, global
     peer        TEXT    NOT NULL,                  -- destination lonid
     msgid       TEXT    NOT NULL,                  -- exactly-once id, checked by the receiver
                                                    -- (no index here: it would cost every commit ~20 %)
     command     TEXT    NOT NULL,                  -- the command line as the client sent it
     created_at  INTEGER NOT NULL,                  -- when the client handed it in (ms)
     attempts    INTEGER NOT NULL DEFAULT 0,        -- replays tried so far
     last_try_at INTEGER,                           -- last replay attempt (ms)
     last_error  TEXT,                              -- why the last attempt did not complete
     held        INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1)) -- 1: operator hold, not replayed
   );
   CREATE INDEX queue_by_peer ON queue (peer, seq);
   CREATE TABLE aside (
     seq        INTEGER PRIMARY KEY,                 -- the seq it had in queue (kept for retry)
     peer       TEXT    NOT NULL,
     msgid      TEXT    NOT NULL,
     command    TEXT    NOT NULL,
     created_at INTEGER NOT NULL,
     attempts   INTEGER NOT NULL,
     moved_at   INTEGER NOT NULL,
     reason     TEXT    NOT NULL CHECK (reason IN ('failed', 'expired')),
     reply      TEXT                                 -- the peer's reply, for 'failed'
   );
   CREATE VIEW queue_summary AS
     SELECT peer,
            count(*)  AS messages,
            sum(held) AS held,
            strftime('%Y-%m-%d %H:%M:%S', min(created_at) / 1000, 'unixepoch') AS oldest_utc
       FROM queue GROUP BY peer;
   CREATE VIEW queue_readable AS
     SELECT seq, peer, msgid, command,
            strftime('%Y-%m-%d %H:%M:%S', created_at / 1000, 'unixepoch') AS created_utc,
            attempts, last_error, held
       FROM queue ORDER BY seq;`,
];
