/// The tables a reader can list, with the column each is ordered and `since`-filtered by.
public enum HistoryTable: String, CaseIterable, Sendable {
    case environments, invocations, proxies, shutdowns, flushes, logs, events

    /// The SQL table name.
    public var tableName: String {
        switch self {
        case .environments: "environments"
        case .invocations: "invocations"
        case .proxies: "proxy_transactions"
        case .shutdowns: "shutdowns"
        case .flushes: "flushes"
        case .logs: "log_records"
        case .events: "lifecycle_events"
        }
    }

    /// The time column rows are ordered by.
    public var timeColumn: String {
        switch self {
        case .environments: "started_at"
        case .invocations: "invoked_at"
        case .proxies: "created_at"
        case .shutdowns: "received_at"
        case .flushes: "started_at"
        case .logs: "at"
        case .events: "at"
        }
    }

    /// All columns, in the order the typed decoders read them.
    public var columns: [String] {
        switch self {
        case .environments: RecordStatements.environmentColumns + ["rev"]
        // Not `registration`: the agent's partial transaction is for making a late proxy, not for reading.
        case .invocations: RecordStatements.invocationColumns.filter { $0 != "registration" } + ["rev"]
        case .proxies:
            ["request_id", "environment_id", "transaction_id", "trace_id", "result", "outcome", "duration_ms", "trigger",
             "created_at", "forwarded_at", "rev"]
        case .shutdowns:
            ["id", "environment_id", "received_at", "reason", "deadline_at", "pending_invocations", "proxies_created",
             "flush_outcome", "flush_duration_ms", "exited_at", "rev"]
        case .flushes:
            ["id", "environment_id", "request_id", "started_at", "trigger", "events", "bytes", "http_status", "outcome",
             "duration_ms", "attempt", "error", "rev"]
        case .logs: ["id", "environment_id", "request_id", "at", "source", "level", "message", "rev"]
        case .events: ["id", "environment_id", "at", "kind", "name", "detail", "rev"]
        }
    }

    /// Which `HistoryFilter` fields apply, mapped to their column.
    var filterColumns: [HistoryFilter.Field: String] {
        switch self {
        case .environments: [.environmentID: "id", .functionName: "function_name", .reason: "shutdown_reason"]
        case .invocations:
            [.requestID: "request_id", .environmentID: "environment_id", .functionName: "environment_id",
             .status: "status", .flushReason: "flush_reason", .coldStart: "cold_start"]
        case .proxies:
            [.requestID: "request_id", .environmentID: "environment_id", .functionName: "environment_id",
             .trigger: "trigger", .outcome: "outcome"]
        case .shutdowns: [.environmentID: "environment_id", .functionName: "environment_id", .reason: "reason"]
        case .flushes:
            [.requestID: "request_id", .environmentID: "environment_id", .functionName: "environment_id",
             .trigger: "trigger", .outcome: "outcome"]
        case .logs:
            [.requestID: "request_id", .environmentID: "environment_id", .functionName: "environment_id",
             .source: "source", .level: "level"]
        case .events: [.environmentID: "environment_id", .functionName: "environment_id", .kind: "kind"]
        }
    }
}

/// Narrows a history query. Each table uses the fields that fit it; a field that does not fit is an error.
public struct HistoryFilter: Sendable, Equatable {
    /// Rows at or after this time (epoch µs, on the table's time column).
    public var since: Int64?
    /// Rows before this time (epoch µs).
    public var until: Int64?
    public var requestID: String?
    public var environmentID: String?
    /// Rows of the environments of this function (`environments.function_name`): a fleet store holds many.
    public var functionName: String?
    /// Invocation status (`success`, `error`, `failure`, `timeout`).
    public var status: String?
    /// Invocation flush reason (`agent`, `runtimeDone`, `timeout`, `shutdown`).
    public var flushReason: String?
    /// Cold starts only (true) or warm only (false).
    public var coldStart: Bool?
    /// Shutdown reason (shutdowns, environments).
    public var reason: String?
    /// Flush or proxy outcome.
    public var outcome: String?
    /// Flush or proxy trigger.
    public var trigger: String?
    /// Log source (`function`, `extension`, `platform`).
    public var source: String?
    /// Log level.
    public var level: String?
    /// Lifecycle event kind.
    public var kind: String?
    /// Only rows written after this revision.
    public var sinceRev: Int64?

    public init() {}

    enum Field: String, CaseIterable {
        case requestID = "request id", environmentID = "environment id", functionName = "function", status
        case flushReason = "flush reason"
        case coldStart = "cold start", reason, outcome, trigger, source, level, kind
    }

    func value(of field: Field) -> SQLValue? {
        switch field {
        case .requestID: requestID.map(SQLValue.text)
        case .environmentID: environmentID.map(SQLValue.text)
        case .functionName: functionName.map(SQLValue.text)
        case .status: status.map(SQLValue.text)
        case .flushReason: flushReason.map(SQLValue.text)
        case .coldStart: coldStart.map { .integer($0 ? 1 : 0) }
        case .reason: reason.map(SQLValue.text)
        case .outcome: outcome.map(SQLValue.text)
        case .trigger: trigger.map(SQLValue.text)
        case .source: source.map(SQLValue.text)
        case .level: level.map(SQLValue.text)
        case .kind: kind.map(SQLValue.text)
        }
    }

    /// The WHERE clause and its bindings for `table`.
    func whereClause(for table: HistoryTable) throws(StoreError) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let since {
            conditions.append("\(table.timeColumn) >= ?")
            bindings.append(.integer(since))
        }
        if let until {
            conditions.append("\(table.timeColumn) < ?")
            bindings.append(.integer(until))
        }
        if let sinceRev {
            conditions.append("rev > ?")
            bindings.append(.integer(sinceRev))
        }
        let columns = table.filterColumns
        for field in Field.allCases {
            guard let value = value(of: field) else { continue }
            guard let column = columns[field] else {
                throw StoreError(code: .sql, message: "a \(field.rawValue) filter does not apply to \(table.rawValue)")
            }
            if field == .functionName && column == "environment_id" {
                // Rows carry their environment; the environment knows its function.
                conditions.append("environment_id IN (SELECT id FROM environments WHERE function_name = ?)")
            } else if field == .level {
                conditions.append("lower(\(column)) = lower(?)")
            } else {
                conditions.append("\(column) = ?")
            }
            bindings.append(value)
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), bindings)
    }
}
