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
        guard table == "invocations" else { return (sql, bindings) }
        if let status = state.filter.status {
            sql.append("status = ?")
            bindings.append(.text(status.rawValue))
        }
        if let reason = state.filter.flushReason {
            sql.append("flush_reason = ?")
            bindings.append(.text(reason.rawValue))
        }
        if state.filter.coldOnly { sql.append("cold_start = 1") }
        return (sql, bindings)
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
            EXISTS (SELECT 1 FROM proxy_transactions p WHERE p.request_id = invocations.request_id)
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
struct TabRowValue: Sendable {
    var ints: [Int64?]
    var doubles: [Double?]
    var texts: [String?]

    init(_ row: SQLRow, columns: Int32) {
        ints = (0..<columns).map { row.optionalInt($0) }
        doubles = (0..<columns).map { row.double($0) }
        texts = (0..<columns).map { row.text($0) }
    }

    var key: RowKey { RowKey(time: ints[0] ?? 0, rowid: ints[1] ?? 0) }
    func int(_ i: Int) -> Int? { ints[i].map { Int($0) } }

    var invocation: InvocationListRow {
        var r = InvocationListRow(key: key, requestID: texts[2] ?? "")
        r.invokedAt = ints[0]
        r.timeoutMs = int(3)
        r.coldStart = ints[4] == 1
        r.status = texts[5]
        r.errorType = texts[6]
        r.runtimeDurationMs = doubles[7]
        r.durationMs = doubles[8]
        r.runtimeDoneAt = ints[9]
        r.releasedAt = ints[10]
        r.flushReason = texts[11]
        r.memorySizeMB = int(12)
        r.maxMemoryUsedMB = int(13)
        r.hasProxy = ints[14] == 1
        return r
    }

    var proxy: ProxyListRow {
        ProxyListRow(
            key: key, requestID: texts[2] ?? "", transactionID: texts[3] ?? "", traceID: texts[4], result: texts[5],
            outcome: texts[6], durationMs: doubles[7], trigger: texts[8] ?? "", createdAt: ints[0] ?? 0,
            forwardedAt: ints[9])
    }

    var shutdown: ShutdownListRow {
        ShutdownListRow(
            key: key, environmentID: texts[2], receivedAt: ints[0] ?? 0, reason: texts[3] ?? "",
            pendingInvocations: int(4) ?? 0, proxiesCreated: int(5) ?? 0, flushOutcome: texts[6],
            flushDurationMs: doubles[7], exitedAt: ints[8])
    }

    var flush: FlushListRow {
        FlushListRow(
            key: key, requestID: texts[2], startedAt: ints[0] ?? 0, trigger: texts[3] ?? "", events: int(4) ?? 0,
            bytes: int(5) ?? 0, httpStatus: int(6), outcome: texts[7] ?? "", durationMs: doubles[8],
            attempt: int(9) ?? 1, error: texts[10])
    }

    var log: LogListRow {
        LogListRow(key: key, requestID: texts[2], at: ints[0] ?? 0, source: texts[3] ?? "", level: texts[4],
               message: texts[5] ?? "")
    }

    var event: EventListRow {
        EventListRow(key: key, environmentID: texts[2], at: ints[0] ?? 0, kind: texts[3] ?? "", name: texts[4],
                 detail: texts[5])
    }
}
