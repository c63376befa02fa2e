-- Lantern store, schema version 1.
-- Times are integer epoch microseconds (UTC). Durations from Lambda reports are REAL milliseconds.
-- `rev` is a store-wide revision the Recorder stamps on every row it inserts or updates, so a
-- reader can ask for "rows changed since revision N" without scanning.

CREATE TABLE lantern_schema (
    version     INTEGER PRIMARY KEY,
    applied_at  INTEGER NOT NULL
);

-- One row per execution environment (one collector process lifetime).
CREATE TABLE environments (
    id                 TEXT PRIMARY KEY,
    function_name      TEXT,
    function_version   TEXT,
    memory_mb          INTEGER,
    region             TEXT,
    runtime            TEXT,
    log_stream         TEXT,
    source             TEXT NOT NULL DEFAULT 'lambda' CHECK (source IN ('lambda', 'emulator')),
    extension_name     TEXT,
    extension_version  TEXT,
    started_at         INTEGER,
    registered_at      INTEGER,
    ready_at           INTEGER,
    init_duration_ms   REAL,
    telemetry          TEXT CHECK (telemetry IN ('subscribed', 'unavailable', 'failed')),
    telemetry_detail   TEXT,
    shutdown_at        INTEGER,
    shutdown_reason    TEXT,
    rev                INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX environments_rev ON environments (rev);

-- One row per request id.
CREATE TABLE invocations (
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
    flush_reason         TEXT CHECK (flush_reason IN ('agent', 'runtimeDone', 'timeout', 'shutdown')),
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
    rev                  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invocations_invoked_at ON invocations (invoked_at);
CREATE INDEX invocations_rev ON invocations (rev);
CREATE INDEX invocations_status ON invocations (status, invoked_at);
CREATE INDEX invocations_flush_reason ON invocations (flush_reason, invoked_at);
CREATE INDEX invocations_environment ON invocations (environment_id, invoked_at);

-- Proxy transactions made for invocations whose agent never reported. One per request id, never two.
CREATE TABLE proxy_transactions (
    request_id      TEXT PRIMARY KEY,
    environment_id  TEXT,
    transaction_id  TEXT NOT NULL,
    trace_id        TEXT,
    result          TEXT,
    outcome         TEXT CHECK (outcome IN ('success', 'failure', 'unknown')),
    duration_ms     REAL,
    trigger         TEXT NOT NULL CHECK (trigger IN ('runtimeDone', 'shutdown', 'timeout')),
    created_at      INTEGER NOT NULL,
    forwarded_at    INTEGER,
    rev             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX proxy_transactions_created_at ON proxy_transactions (created_at);
CREATE INDEX proxy_transactions_rev ON proxy_transactions (rev);

-- SHUTDOWN events as the collector received them.
CREATE TABLE shutdowns (
    id                   INTEGER PRIMARY KEY,
    environment_id       TEXT,
    received_at          INTEGER NOT NULL,
    reason               TEXT NOT NULL,
    deadline_at          INTEGER,
    pending_invocations  INTEGER NOT NULL DEFAULT 0,
    proxies_created      INTEGER NOT NULL DEFAULT 0,
    flush_outcome        TEXT,
    flush_duration_ms    REAL,
    exited_at            INTEGER,
    rev                  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX shutdowns_received_at ON shutdowns (received_at);
CREATE INDEX shutdowns_rev ON shutdowns (rev);

-- Each send to the APM Server (and each batch dropped without a send).
CREATE TABLE flushes (
    id              INTEGER PRIMARY KEY,
    environment_id  TEXT,
    request_id      TEXT,
    started_at      INTEGER NOT NULL,
    trigger         TEXT NOT NULL CHECK (trigger IN ('invocation', 'size', 'age', 'retry', 'shutdown', 'intake', 'background')),
    events          INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    http_status     INTEGER,
    outcome         TEXT NOT NULL CHECK (outcome IN ('sent', 'failed', 'dropped', 'deferred')),
    duration_ms     REAL,
    attempt         INTEGER NOT NULL DEFAULT 1,
    error           TEXT,
    rev             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX flushes_started_at ON flushes (started_at);
CREATE INDEX flushes_request ON flushes (request_id);
CREATE INDEX flushes_rev ON flushes (rev);

-- Function, extension and platform log lines (bounded retention: the Recorder trims the oldest).
CREATE TABLE log_records (
    id              INTEGER PRIMARY KEY,
    environment_id  TEXT,
    request_id      TEXT,
    at              INTEGER NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('function', 'extension', 'platform')),
    level           TEXT,
    message         TEXT NOT NULL,
    rev             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX log_records_at ON log_records (at);
CREATE INDEX log_records_request ON log_records (request_id);
CREATE INDEX log_records_rev ON log_records (rev);

-- The collector's own life: startup, hooks, processes, registration, subscription, termination.
CREATE TABLE lifecycle_events (
    id              INTEGER PRIMARY KEY,
    environment_id  TEXT,
    at              INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT,
    detail          TEXT,
    rev             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX lifecycle_events_at ON lifecycle_events (at);
CREATE INDEX lifecycle_events_rev ON lifecycle_events (rev);
