#!/usr/bin/env python3
"""What naming only a fact's columns in the invocation upsert saves (RecordStatements.upsertInvocation(shape:)).

A store with schema/*.sql and 20,000 invocations; then each gets a later fact (its report: duration_ms only), four
per transaction as the collector's commit delay groups them, written either with every column in the SET list
(COALESCE(excluded.x, x), the Recorder before) or with just the carried one. SQLite rewrites a row's entry in each
index over a column the SET list names, so the first rewrites all seven invocation indexes.
Run: python3 bench/upsert-shape.py   (WAL, synchronous=NORMAL, as the Recorder opens the store)
"""
import glob, os, sqlite3, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = "".join(open(p).read() for p in sorted(glob.glob(os.path.join(ROOT, "schema", "*.sql"))))
COLUMNS = ["environment_id", "function_arn", "invoked_at", "deadline_at", "timeout_ms", "trace_id", "cold_start",
           "started_at", "runtime_done_at", "status", "error_type", "runtime_duration_ms", "produced_bytes",
           "response_at", "agent_flushed_at", "flush_reason", "released_at", "duration_ms", "billed_duration_ms",
           "memory_size_mb", "max_memory_used_mb", "init_duration_ms", "report_status", "transaction_id",
           "agent_events", "agent_bytes", "log_lines"]
COUNTERS = {"agent_events", "agent_bytes", "log_lines"}
EVERY = ("INSERT INTO invocations (request_id, " + ", ".join(COLUMNS) + ", rev) VALUES ("
         + ", ".join(["?"] * (len(COLUMNS) + 2)) + ") ON CONFLICT (request_id) DO UPDATE SET "
         + ", ".join(f"{c} = {c} + excluded.{c}" if c in COUNTERS else f"{c} = COALESCE(excluded.{c}, {c})"
                     for c in COLUMNS) + ", rev = excluded.rev")
SHAPED = ("INSERT INTO invocations (request_id, duration_ms, rev) VALUES (?, ?, ?) "
          "ON CONFLICT (request_id) DO UPDATE SET duration_ms = excluded.duration_ms, rev = excluded.rev")


def run(mode, folder, n=20_000):
    path = os.path.join(folder, f"{mode}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    for i in range(n):
        db.execute("INSERT INTO invocations (request_id, environment_id, invoked_at, status, flush_reason, cold_start,"
                   " rev) VALUES (?, 'env', ?, 'success', 'agent', 0, 1)", (f"req-{i:08d}", 1_000 + i))
    db.execute("COMMIT")
    started = time.perf_counter()
    for first in range(0, n, 4):
        db.execute("BEGIN")
        for i in range(first, first + 4):
            if mode == "every column":
                values = [None] * len(COLUMNS)
                values[COLUMNS.index("duration_ms")] = 12.5
                values[-3:] = [0, 0, 0]
                db.execute(EVERY, [f"req-{i:08d}"] + values + [2])
            else:
                db.execute(SHAPED, (f"req-{i:08d}", 12.5, 2))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed / n * 1e6


with tempfile.TemporaryDirectory() as folder:
    for round_ in range(3):
        every, shaped = run("every column", folder), run("carried columns", folder)
        print(f"round {round_ + 1}: every column {every:6.1f} µs/fact   carried columns {shaped:6.1f} µs/fact"
              f"   ({shaped / every:.0%})")
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
