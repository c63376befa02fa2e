-- Lantern store, schema version 7: the same rules, checked without building a table. SQLite evaluates
-- `x IN ('a', 'b', 'c')` with three or more constants by building an ephemeral index on every execution of the
-- statement (a new in-memory B-tree, a zeroed page: EXPLAIN shows OpenEphemeral), and the collector writes these
-- three tables on every invocation: those builds were a tenth of the extension's instructions
-- (docs/layer.md, "CPU per invocation"). The same CHECKs as OR chains of equalities accept and refuse exactly the
-- same values (NULL passes both ways). SQLite cannot alter a CHECK, so `invocations`, `flushes` and `log_records`
-- are rebuilt (same columns in the same order, same indexes). `environments` and `proxy_transactions`, written a
-- few times per environment, keep their IN lists.

CREATE TABLE invocations_v7 (
    request_id           TEXT PRIMARY KEY,
    environment_id       TEXT,
    function_arn         TEXT,
    invoked_at           INTEGER,
    deadline_at          INTEGER,
    timeout_ms           INTEGER,
    trace_id             TEXT,
    cold_start           INTEGER CHECK (cold_start = 0 OR cold_start = 1),
    started_at           INTEGER,
    runtime_done_at      INTEGER,
    status               TEXT CHECK (status = 'success' OR status = 'error' OR status = 'failure' OR status = 'timeout'),
    error_type           TEXT,
    runtime_duration_ms  REAL,
    produced_bytes       INTEGER,
    response_at          INTEGER,
    agent_flushed_at     INTEGER,
    flush_reason         TEXT CHECK (flush_reason = 'agent' OR flush_reason = 'runtimeDone' OR flush_reason = 'timeout'
                                     OR flush_reason = 'shutdown' OR flush_reason = 'report'),
    released_at          INTEGER,
    duration_ms          REAL,
    billed_duration_ms   INTEGER,
    memory_size_mb       INTEGER,
    max_memory_used_mb   INTEGER,
    init_duration_ms     REAL,
    report_status        TEXT,
    agent_events         INTEGER NOT NULL DEFAULT 0,
    agent_bytes          INTEGER NOT NULL DEFAULT 0,
    log_lines            INTEGER NOT NULL DEFAULT 0,
    transaction_id       TEXT,
    rev                  INTEGER NOT NULL DEFAULT 0,
    registration         TEXT,
    in_flight            INTEGER
);
INSERT INTO invocations_v7 SELECT * FROM invocations;
DROP TABLE invocations;
ALTER TABLE invocations_v7 RENAME TO invocations;
CREATE INDEX invocations_invoked_at ON invocations (invoked_at);
CREATE INDEX invocations_rev ON invocations (rev);
CREATE INDEX invocations_status ON invocations (status, invoked_at);
CREATE INDEX invocations_flush_reason ON invocations (flush_reason, invoked_at);
CREATE INDEX invocations_environment ON invocations (environment_id, invoked_at);
CREATE INDEX invocations_cold_start ON invocations (cold_start, invoked_at);
CREATE INDEX invocations_status_flush_reason ON invocations (status, flush_reason, invoked_at);
CREATE INDEX invocations_in_flight ON invocations (in_flight) WHERE in_flight IS NOT NULL;

CREATE TABLE flushes_v7 (
    id              INTEGER PRIMARY KEY,
    environment_id  TEXT,
    request_id      TEXT,
    started_at      INTEGER NOT NULL,
    trigger         TEXT NOT NULL CHECK (trigger = 'invocation' OR trigger = 'size' OR trigger = 'age' OR trigger = 'retry'
                                         OR trigger = 'shutdown' OR trigger = 'intake' OR trigger = 'background'),
    events          INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    http_status     INTEGER,
    outcome         TEXT NOT NULL CHECK (outcome = 'sent' OR outcome = 'failed' OR outcome = 'dropped' OR outcome = 'deferred'),
    duration_ms     REAL,
    attempt         INTEGER NOT NULL DEFAULT 1,
    error           TEXT,
    rev             INTEGER NOT NULL DEFAULT 0
);
INSERT INTO flushes_v7 SELECT * FROM flushes;
DROP TABLE flushes;
ALTER TABLE flushes_v7 RENAME TO flushes;
CREATE INDEX flushes_started_at ON flushes (started_at);
CREATE INDEX flushes_request ON flushes (request_id);
CREATE INDEX flushes_rev ON flushes (rev);
CREATE INDEX flushes_outcome ON flushes (outcome, started_at);

CREATE TABLE log_records_v7 (
    id              INTEGER PRIMARY KEY,
    environment_id  TEXT,
    request_id      TEXT,
    at              INTEGER NOT NULL,
    source          TEXT NOT NULL CHECK (source = 'function' OR source = 'extension' OR source = 'platform'),
    level           TEXT,
    message         TEXT NOT NULL,
    rev             INTEGER NOT NULL DEFAULT 0
);
INSERT INTO log_records_v7 SELECT * FROM log_records;
DROP TABLE log_records;
ALTER TABLE log_records_v7 RENAME TO log_records;
CREATE INDEX log_records_at ON log_records (at);
CREATE INDEX log_records_request ON log_records (request_id);
CREATE INDEX log_records_rev ON log_records (rev);
