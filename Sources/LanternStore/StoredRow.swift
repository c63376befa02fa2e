/// A row read back from the store: the record as the collector wrote it (counters summed, upserts merged),
/// its row id (for tables keyed by one) and the revision of the batch that last wrote it.
@dynamicMemberLookup
public struct StoredRow<Record: Sendable & Equatable>: Sendable, Equatable {
    /// The integer row id (shutdowns, flushes, logs, lifecycle events); nil for tables keyed by text.
    public var id: Int64?
    /// The store revision that last wrote this row.
    public var rev: Int64
    /// The row's values.
    public var record: Record

    public init(id: Int64? = nil, rev: Int64, record: Record) {
        self.id = id
        self.rev = rev
        self.record = record
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<Record, Value>) -> Value { record[keyPath: keyPath] }
}

/// A row of `invocations`.
public typealias InvocationRow = StoredRow<InvocationFact>
/// A row of `environments`.
public typealias EnvironmentRow = StoredRow<EnvironmentFact>
/// A row of `proxy_transactions`.
public typealias ProxyRow = StoredRow<ProxyTransactionRecord>
/// A row of `shutdowns`.
public typealias ShutdownRow = StoredRow<ShutdownRecord>
/// A row of `flushes`.
public typealias FlushRow = StoredRow<FlushRecord>
/// A row of `log_records`.
public typealias LogRow = StoredRow<LogRecord>
/// A row of `lifecycle_events`.
public typealias LifecycleRow = StoredRow<LifecycleEvent>

/// Columns and rows of a query, as SQLite returned them.
public struct QueryResult: Sendable, Equatable {
    /// Column names in select order.
    public var columns: [String]
    /// Rows, each with one value per column.
    public var rows: [[SQLValue]]

    public init(columns: [String], rows: [[SQLValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// Everything that changed since a revision, per table, in revision order.
public struct StoreChanges: Sendable, Equatable {
    /// The newest revision included; pass it to the next `changes(sinceRev:)`.
    public var revision: Int64
    public var environments: [EnvironmentRow] = []
    public var invocations: [InvocationRow] = []
    public var proxies: [ProxyRow] = []
    public var shutdowns: [ShutdownRow] = []
    public var flushes: [FlushRow] = []
    public var logs: [LogRow] = []
    public var lifecycleEvents: [LifecycleRow] = []

    /// Whether nothing changed.
    public var isEmpty: Bool {
        environments.isEmpty && invocations.isEmpty && proxies.isEmpty && shutdowns.isEmpty && flushes.isEmpty
            && logs.isEmpty && lifecycleEvents.isEmpty
    }
}
