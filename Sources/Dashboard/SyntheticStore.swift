import LanternStore

/// A large store of made-up but well-formed rows, for the dashboard's benchmark (`lantern-bench dash`) and its
/// million-invocation test, so both measure the same data.
///
/// The Recorder creates the schema and the one environment; plain SQL then inserts every other row from a
/// recursive CTE in one transaction (a million rows through the Recorder would take minutes).
public enum SyntheticStore {
    /// The environment every row belongs to, and its function name (the header shows it).
    public static let environmentID = "env-big"
    public static let functionName = "big-fn"
    /// Invocation `i` (1-based) was invoked at `base + i` ms, so invocation `count` is the newest.
    public static let base: Int64 = 1_764_000_000_000_000

    /// The request id of invocation `i` (1-based). Its first 8 characters, which the list shows, are `m` and
    /// the zero-padded index, e.g. `m0000001`.
    public static func requestID(_ i: Int) -> String {
        var digits = String(i)
        while digits.count < 7 { digits = "0" + digits }
        return "m\(digits)-0000-4000-8000-000000000000"
    }

    /// Creates the store at `path` (which must not exist) with `invocations` invocations.
    ///
    /// Invocation `i` has status `error` when `i % 50 == 0`, `timeout` at 1, `failure` at 2, else `success`;
    /// flush reason `runtimeDone` when `i % 20 == 0`, `timeout` at 1, else `agent`; a cold start when
    /// `i % 10000 == 1`. The other tabs get rows too, so switching to them reads real windows: a flush (one in a
    /// hundred failed) and a log line for every 10th invocation, a proxy transaction and a lifecycle event for every
    /// 1000th, and a shutdown for every 10000th.
    public static func create(at path: String, invocations: Int) async throws(StoreError) {
        let recorder = try Recorder(path: path)
        var environment = EnvironmentFact(id: environmentID)
        environment.functionName = functionName
        environment.memoryMB = 1024
        environment.source = .emulator
        environment.startedAt = base
        recorder.record(.environment(environment))
        try await recorder.flush()
        await recorder.close()

        let connection = try Connection(path: path, mode: .readWrite)
        defer { connection.close() }
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            // Rowid i is invocation i: the table is empty and the CTE inserts in order.
            try connection.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(invocations))
                INSERT INTO invocations (request_id, environment_id, invoked_at, timeout_ms, cold_start, status,
                    flush_reason, runtime_duration_ms, duration_ms, runtime_done_at, released_at, memory_size_mb,
                    max_memory_used_mb)
                SELECT printf('m%07d-0000-4000-8000-000000000000', i), '\(environmentID)', \(base) + i * 1000, 3000,
                    i % 10000 = 1,
                    CASE i % 50 WHEN 0 THEN 'error' WHEN 1 THEN 'timeout' WHEN 2 THEN 'failure' ELSE 'success' END,
                    CASE i % 20 WHEN 0 THEN 'runtimeDone' WHEN 1 THEN 'timeout' ELSE 'agent' END,
                    12.5, 14.0, \(base) + i * 1000 + 500, \(base) + i * 1000 + 700, 1024, 90
                FROM n
                """)
            try connection.execute("""
                INSERT INTO flushes (environment_id, request_id, started_at, trigger, events, bytes, http_status,
                    outcome, duration_ms, attempt, error)
                SELECT environment_id, request_id, released_at - 100, 'invocation', 3, 2048,
                    CASE WHEN rowid % 1000 = 500 THEN 503 ELSE 202 END,
                    CASE WHEN rowid % 1000 = 500 THEN 'failed' ELSE 'sent' END, 1.5, 1,
                    CASE WHEN rowid % 1000 = 500 THEN 'HTTP 503' END
                FROM invocations WHERE rowid % 10 = 0;
                INSERT INTO log_records (environment_id, request_id, at, source, level, message)
                SELECT environment_id, request_id, invoked_at + 200, 'function',
                    CASE WHEN status = 'success' THEN 'INFO' ELSE 'ERROR' END, 'handled request ' || request_id
                FROM invocations WHERE rowid % 10 = 0;
                INSERT INTO proxy_transactions (request_id, environment_id, transaction_id, trace_id, result, outcome,
                    duration_ms, trigger, created_at, forwarded_at)
                SELECT request_id, environment_id, printf('%016x', rowid), NULL, 'HTTP 5xx', 'failure', 14.0,
                    'runtimeDone', released_at, released_at + 2000
                FROM invocations WHERE rowid % 1000 = 0;
                INSERT INTO lifecycle_events (environment_id, at, kind, name, detail)
                SELECT environment_id, invoked_at + 1, 'flush', 'apm', 'batch of 3 events'
                FROM invocations WHERE rowid % 1000 = 0;
                INSERT INTO shutdowns (environment_id, received_at, reason, pending_invocations, proxies_created,
                    flush_outcome, flush_duration_ms, exited_at)
                SELECT environment_id, released_at + 1000, 'spindown', 0, 0, 'sent', 3.0, released_at + 30000
                FROM invocations WHERE rowid % 10000 = 0;
                """)
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
