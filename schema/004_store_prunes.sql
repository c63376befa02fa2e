-- Lantern store, schema version 4: the size bound. When the store nears its bound (LANTERN_DB_MAX_MB) the writer
-- deletes the oldest invocations together with everything tied to them or older (proxies, flushes, logs,
-- shutdowns, lifecycle events, environments with nothing left), never half an invocation, and notes it here so
-- that `lantern query stats` can say what was pruned and when. These rows are never pruned themselves.
CREATE TABLE store_prunes (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    cutoff_at       INTEGER NOT NULL,   -- everything invoked (or recorded) at or before this went
    invocations     INTEGER NOT NULL,
    rows            INTEGER NOT NULL,   -- all rows deleted, invocations included
    bytes_before    INTEGER NOT NULL,   -- pages in use before and after, in bytes
    bytes_after     INTEGER NOT NULL,
    bound_bytes     INTEGER NOT NULL,
    rev             INTEGER NOT NULL
);
CREATE INDEX store_prunes_at ON store_prunes (at);
