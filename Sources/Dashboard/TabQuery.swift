import LanternStore

/// How one tab's rows are read: the table, its time column (indexed), the columns and the row mapping.
/// Lists are ordered newest first by (time, rowid) and paged by keyset on that pair, so a window costs the
/// same at the top of a million rows as at the bottom.
struct TabQuery: Sendable {
    var table: String
    var timeColumn: String
    var columns: String
    var searchColumns: [String]
    var decode: @Sendable ([TabRowValue]) -> TabRows

    /// The WHERE conditions of the current filter (empty when none), and their bindings.
    func filter(_ state: UIState) -> (sql: [String], bindings: [SQLValue]) {
        var sql = ["\(timeColumn) IS NOT NULL"]
        var bindings: [SQLValue] = []
        // Every tab's table has `environment_id`: the scope narrows them all.
        if let environmentID = state.filter.environmentID {
            sql.append("environment_id = ?")
            bindings.append(.text(environmentID))
        }
        if let functionName = state.filter.functionName {
            sql.append("environment_id IN (SELECT id FROM environments WHERE function_name = ?)")
            bindings.append(.text(functionName))
        }
        guard table == "invocations" else { return (sql, bindings) }
        // With "cold only", the unary `+` keeps SQLite off the status and flush-reason indexes: cold starts are
        // the rarest of the three (one per execution environment), so walking (cold_start, invoked_at) and checking
        // the rest row by row reads the fewest rows. Without it, status + flush reason + cold picks the pair's index
        // and may read every row of that pair to find no cold one.
        let unindexed = state.filter.coldOnly ? "+" : ""
        if let status = state.filter.status {
            sql.append("\(unindexed)status = ?")
            bindings.append(.text(status.rawValue))
        }
        if let reason = state.filter.flushReason {
            sql.append("\(unindexed)flush_reason = ?")
            bindings.append(.text(reason.rawValue))
        }
        if state.filter.coldOnly { sql.append("cold_start = 1") }
        return (sql, bindings)
    }

    /// The query of a window: the first `limit` rows matching `conditions`, newest first or oldest first.
    func windowSQL(_ conditions: [String], oldestFirst: Bool, limit: Int) -> String {
        let order = oldestFirst ? "ASC" : "DESC"
        return """
            SELECT \(columns) FROM \(table) WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(timeColumn) \(order), rowid \(order) LIMIT \(limit)
            """
    }

    static func forTab(_ tab: Tab) -> TabQuery {
        switch tab {
        case .invocations: invocations
        case .proxies: proxies
        case .shutdowns: shutdowns
        case .flushes: flushes
        case .logs: logs
        case .events: events
        }
    }

    static let invocations = TabQuery(
        table: "invocations", timeColumn: "invoked_at",
        columns: """
            invoked_at, rowid, request_id, timeout_ms, cold_start, status, error_type, runtime_duration_ms,
            duration_ms, runtime_done_at, released_at, flush_reason, memory_size_mb, max_memory_used_mb,
            EXISTS (SELECT 1 FROM proxy_transactions p WHERE p.request_id = invocations.request_id), in_flight
            """,
        searchColumns: ["request_id", "trace_id", "status", "error_type", "flush_reason", "transaction_id"],
        decode: { .invocations($0.map { $0.invocation }) })

    static let proxies = TabQuery(
        table: "proxy_transactions", timeColumn: "created_at",
        columns: """
            created_at, rowid, request_id, transaction_id, trace_id, result, outcome, duration_ms, trigger, forwarded_at
            """,
        searchColumns: ["request_id", "transaction_id", "trace_id", "result", "trigger"],
        decode: { .proxies($0.map { $0.proxy }) })

    static let shutdowns = TabQuery(
        table: "shutdowns", timeColumn: "received_at",
        columns: """
            received_at, rowid, environment_id, reason, pending_invocations, proxies_created, flush_outcome,
            flush_duration_ms, exited_at
            """,
        searchColumns: ["reason", "environment_id", "flush_outcome"],
        decode: { .shutdowns($0.map { $0.shutdown }) })

    static let flushes = TabQuery(
        table: "flushes", timeColumn: "started_at",
        columns: """
            started_at, rowid, request_id, trigger, events, bytes, http_status, outcome, duration_ms, attempt, error
            """,
        searchColumns: ["request_id", "trigger", "outcome", "error", "http_status"],
        decode: { .flushes($0.map { $0.flush }) })

    static let logs = TabQuery(
        table: "log_records", timeColumn: "at",
        columns: "at, rowid, request_id, source, level, message",
        searchColumns: ["message", "request_id", "level", "source"],
        decode: { .logs($0.map { $0.log }) })

    static let events = TabQuery(
        table: "lifecycle_events", timeColumn: "at",
        columns: "at, rowid, environment_id, kind, name, detail",
        searchColumns: ["kind", "name", "detail"],
        decode: { .events($0.map { $0.event }) })
}

/// The raw columns of one row, copied out of the statement so decoding happens after the step loop.
/// Each column is read once, as what it holds (reading every column as integer, real and text made SQLite
/// convert each integer to text, on every row of every frame).
struct TabRowValue: Sendable {
    var values: [SQLValue]

    init(_ row: SQLRow, columns: Int32) {
        values = (0..<columns).map { row.value($0) }
    }

    var key: RowKey { RowKey(time: int64(0) ?? 0, rowid: int64(1) ?? 0) }
    func int64(_ i: Int) -> Int64? { values[i].int64 }
    func int(_ i: Int) -> Int? { values[i].int64.map { Int($0) } }
    func double(_ i: Int) -> Double? { values[i].double }
    func text(_ i: Int) -> String? { values[i].string }

    var invocation: InvocationListRow {
        var r = InvocationListRow(key: key, requestID: text(2) ?? "")
        r.invokedAt = int64(0)
        r.timeoutMs = int(3)
        r.coldStart = int64(4) == 1
        r.status = text(5)
        r.errorType = text(6)
        r.runtimeDurationMs = double(7)
        r.durationMs = double(8)
        r.runtimeDoneAt = int64(9)
        r.releasedAt = int64(10)
        r.flushReason = text(11)
        r.memorySizeMB = int(12)
        r.maxMemoryUsedMB = int(13)
        r.hasProxy = int64(14) == 1
        r.inFlight = int(15)
        return r
    }

    var proxy: ProxyListRow {
        ProxyListRow(
            key: key, requestID: text(2) ?? "", transactionID: text(3) ?? "", traceID: text(4), result: text(5),
            outcome: text(6), durationMs: double(7), trigger: text(8) ?? "", createdAt: int64(0) ?? 0,
            forwardedAt: int64(9))
    }

    var shutdown: ShutdownListRow {
        ShutdownListRow(
            key: key, environmentID: text(2), receivedAt: int64(0) ?? 0, reason: text(3) ?? "",
            pendingInvocations: int(4) ?? 0, proxiesCreated: int(5) ?? 0, flushOutcome: text(6),
            flushDurationMs: double(7), exitedAt: int64(8))
    }

    var flush: FlushListRow {
        FlushListRow(
            key: key, requestID: text(2), startedAt: int64(0) ?? 0, trigger: text(3) ?? "", events: int(4) ?? 0,
            bytes: int(5) ?? 0, httpStatus: int(6), outcome: text(7) ?? "", durationMs: double(8),
            attempt: int(9) ?? 1, error: text(10))
    }

    var log: LogListRow {
        LogListRow(key: key, requestID: text(2), at: int64(0) ?? 0, source: text(3) ?? "", level: text(4),
               message: text(5) ?? "")
    }

    var event: EventListRow {
        EventListRow(key: key, environmentID: text(2), at: int64(0) ?? 0, kind: text(3) ?? "", name: text(4),
                 detail: text(5))
    }
}
