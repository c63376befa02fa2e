-- Lantern store, schema version 6: Lambda Managed Instances. One environment serves several invocations at once,
-- nothing freezes, and an invocation ends with its `platform.report` (there is no runtimeDone and no INVOKE event).
--  * environments: how the environment was initialized (`on-demand`, `provisioned-concurrency`, `snap-start`,
--    `lambda-managed-instances`) and, on Managed Instances, its maximum concurrency.
--  * invocations.in_flight: how many invocations were in flight when this one started, itself included (1 = alone).
--  * flush_reason and proxy_transactions.trigger gain 'report': what ended a Managed Instances invocation.
-- SQLite cannot alter a CHECK constraint, so `invocations` and `proxy_transactions` are rebuilt (same columns, in
-- the same order, plus `in_flight`), and their indexes made again.
ALTER TABLE environments ADD COLUMN initialization_type TEXT;
ALTER TABLE environments ADD COLUMN max_concurrency INTEGER;

CREATE TABLE invocations_v6 (
    request_id           TEXT PRIMARY KEY,
    environment_id       TEXT,
    function_arn         TEXT,
    invoked_at           INTEGER,
    deadline_at          INTEGER,
    timeout_ms           INTEGER,
    trace_id             TEXT,
    cold_start           INTEGER CHECK (cold_start IN (0, 1)),
    started_at           INTEGER,
    runtime_done_at      INTEGER,
    status               TEXT CHECK (status IN ('success', 'error', 'failure', 'timeout')),
    error_type           TEXT,
    runtime_duration_ms  REAL,
    produced_bytes       INTEGER,
    response_at          INTEGER,
    agent_flushed_at     INTEGER,
    flush_reason         TEXT CHECK (flush_reason IN ('agent', 'runtimeDone', 'timeout', 'shutdown', 'report')),
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
INSERT INTO invocations_v6 (
    request_id, environment_id, function_arn, invoked_at, deadline_at, timeout_ms, trace_id, cold_start, started_at,
    runtime_done_at, status, error_type, runtime_duration_ms, produced_bytes, response_at, agent_flushed_at,
    flush_reason, released_at, duration_ms, billed_duration_ms, memory_size_mb, max_memory_used_mb, init_duration_ms,
    report_status, agent_events, agent_bytes, log_lines, transaction_id, rev, registration)
SELECT
    request_id, environment_id, function_arn, invoked_at, deadline_at, timeout_ms, trace_id, cold_start, started_at,
    runtime_done_at, status, error_type, runtime_duration_ms, produced_bytes, response_at, agent_flushed_at,
    flush_reason, released_at, duration_ms, billed_duration_ms, memory_size_mb, max_memory_used_mb, init_duration_ms,
    report_status, agent_events, agent_bytes, log_lines, transaction_id, rev, registration
FROM invocations;
DROP TABLE invocations;
ALTER TABLE invocations_v6 RENAME TO invocations;
CREATE INDEX invocations_invoked_at ON invocations (invoked_at);
CREATE INDEX invocations_rev ON invocations (rev);
CREATE INDEX invocations_status ON invocations (status, invoked_at);
CREATE INDEX invocations_flush_reason ON invocations (flush_reason, invoked_at);
CREATE INDEX invocations_environment ON invocations (environment_id, invoked_at);
CREATE INDEX invocations_cold_start ON invocations (cold_start, invoked_at);
CREATE INDEX invocations_status_flush_reason ON invocations (status, flush_reason, invoked_at);
-- The dashboard's peak concurrency (max over in_flight IS NOT NULL) in O(log n); classic rows (NULL) cost nothing.
CREATE INDEX invocations_in_flight ON invocations (in_flight) WHERE in_flight IS NOT NULL;

CREATE TABLE proxy_transactions_v6 (
    request_id      TEXT PRIMARY KEY,
    environment_id  TEXT,
    transaction_id  TEXT NOT NULL,
    trace_id        TEXT,
    result          TEXT,
    outcome         TEXT CHECK (outcome IN ('success', 'failure', 'unknown')),
    duration_ms     REAL,
    trigger         TEXT NOT NULL CHECK (trigger IN ('runtimeDone', 'shutdown', 'timeout', 'report')),
    created_at      INTEGER NOT NULL,
    forwarded_at    INTEGER,
    rev             INTEGER NOT NULL DEFAULT 0
);
INSERT INTO proxy_transactions_v6 SELECT * FROM proxy_transactions;
DROP TABLE proxy_transactions;
ALTER TABLE proxy_transactions_v6 RENAME TO proxy_transactions;
CREATE INDEX proxy_transactions_created_at ON proxy_transactions (created_at);
CREATE INDEX proxy_transactions_rev ON proxy_transactions (rev);
