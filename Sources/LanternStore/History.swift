/// The store's reader: a read-only connection (`SQLITE_OPEN_READONLY`) with typed queries per table,
/// counts, summary statistics, a cheap change check (`PRAGMA data_version`) and rows changed since a revision.
///
/// Not `Sendable`: one History per thread or task (open another for another reader).
public final class History {
    let connection: Connection
    private var lastDataVersion: Int64
    /// The store file.
    public let path: String

    /// Opens `path` read-only. Refuses a missing file, a non-SQLite file, a SQLite file that is not a Lantern store,
    /// and a store whose schema differs from this binary's, each with a clear `StoreError`.
    public init(path: String, busyTimeoutMs: Int = 1_000) throws(StoreError) {
        self.path = path
        connection = try StoreSchema.openForReading(path: path)
        connection.setBusyTimeout(milliseconds: busyTimeoutMs)
        lastDataVersion = try connection.scalar("PRAGMA data_version").int64 ?? 0
    }

    /// Closes the connection. Further queries throw `.closed`.
    public func close() { connection.close() }

    /// Whether another connection committed since the last call (or since opening). Costs one PRAGMA.
    public func hasChanged() throws(StoreError) -> Bool {
        let version = try connection.scalar("PRAGMA data_version").int64 ?? 0
        defer { lastDataVersion = version }
        return version != lastDataVersion
    }

    /// The newest revision in the store (0 when empty).
    public func maxRev() throws(StoreError) -> Int64 {
        try connection.scalar(RecordStatements.maxRevision).int64 ?? 0
    }

    // MARK: Typed queries (newest `limit` rows matching `filter`, returned oldest first)

    public func invocations(filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> [InvocationRow] {
        try select(.invocations, filter: filter, limit: limit, decode: RowDecoding.invocation)
    }

    public func environments(filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> [EnvironmentRow] {
        try select(.environments, filter: filter, limit: limit, decode: RowDecoding.environment)
    }

    public func proxies(filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> [ProxyRow] {
        try select(.proxies, filter: filter, limit: limit, decode: RowDecoding.proxy)
    }

    public func shutdowns(filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> [ShutdownRow] {
        try select(.shutdowns, filter: filter, limit: limit, decode: RowDecoding.shutdown)
    }

    public func flushes(filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> [FlushRow] {
        try select(.flushes, filter: filter, limit: limit, decode: RowDecoding.flush)
    }

    public func logs(filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> [LogRow] {
        try select(.logs, filter: filter, limit: limit, decode: RowDecoding.log)
    }

    public func lifecycleEvents(filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> [LifecycleRow] {
        try select(.events, filter: filter, limit: limit, decode: RowDecoding.lifecycle)
    }

    /// One invocation by request id.
    public func invocation(requestID: String) throws(StoreError) -> InvocationRow? {
        var filter = HistoryFilter()
        filter.requestID = requestID
        return try invocations(filter: filter, limit: 1).first
    }

    /// The number of rows of `table` matching `filter`.
    public func count(_ table: HistoryTable, filter: HistoryFilter = .init()) throws(StoreError) -> Int {
        let (whereSQL, bindings) = try filter.whereClause(for: table)
        return Int(try connection.scalar("SELECT count(*) FROM \(table.tableName)\(whereSQL)", bindings).int64 ?? 0)
    }

    /// The same rows as the typed queries, as columns and raw values (for `lantern query` output).
    public func rows(_ table: HistoryTable, filter: HistoryFilter = .init(), limit: Int? = 100) throws(StoreError) -> QueryResult {
        let statement = try selectStatement(table, filter: filter, limit: limit)
        var rows: [[SQLValue]] = []
        while try statement.step() { rows.append(statement.row()) }
        statement.reset()
        return QueryResult(columns: table.columns, rows: rows.reversed())
    }

    // MARK: Tail

    /// Invocations written after revision `sinceRev`, in revision order.
    public func changedInvocations(sinceRev: Int64) throws(StoreError) -> [InvocationRow] {
        try changed(.invocations, sinceRev: sinceRev, decode: RowDecoding.invocation)
    }

    /// Every row written after revision `sinceRev`, read in one snapshot, with the revision to ask from next time.
    public func changes(sinceRev: Int64) throws(StoreError) -> StoreChanges {
        try connection.execute("BEGIN")
        do throws(StoreError) {
            var changes = StoreChanges(revision: max(sinceRev, try maxRev()))
            if changes.revision > sinceRev {
                changes.environments = try changed(.environments, sinceRev: sinceRev, decode: RowDecoding.environment)
                changes.invocations = try changed(.invocations, sinceRev: sinceRev, decode: RowDecoding.invocation)
                changes.proxies = try changed(.proxies, sinceRev: sinceRev, decode: RowDecoding.proxy)
                changes.shutdowns = try changed(.shutdowns, sinceRev: sinceRev, decode: RowDecoding.shutdown)
                changes.flushes = try changed(.flushes, sinceRev: sinceRev, decode: RowDecoding.flush)
                changes.logs = try changed(.logs, sinceRev: sinceRev, decode: RowDecoding.log)
                changes.lifecycleEvents = try changed(.events, sinceRev: sinceRev, decode: RowDecoding.lifecycle)
            }
            try connection.execute("COMMIT")
            return changes
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    // MARK: Raw SQL

    /// Runs one read-only SQL statement. Anything that is not a read (a write, `VACUUM INTO`, ATTACH) is refused
    /// with a `.readOnly` error before it runs: the read-only connection alone does not stop `VACUUM INTO`.
    public func query(sql: String) throws(StoreError) -> QueryResult {
        let statement = try connection.prepareRead(sql)
        let columns = (0..<statement.columnCount).map(statement.columnName)
        var rows: [[SQLValue]] = []
        while try statement.step() { rows.append(statement.row()) }
        return QueryResult(columns: columns, rows: rows)
    }

    // MARK: Internals

    private func selectStatement(_ table: HistoryTable, filter: HistoryFilter, limit: Int?) throws(StoreError) -> Statement {
        let (whereSQL, bindings) = try filter.whereClause(for: table)
        let sql = """
            SELECT \(table.columns.joined(separator: ", ")) FROM \(table.tableName)\(whereSQL)
            ORDER BY \(table.timeColumn) DESC, rowid DESC LIMIT ?
            """
        let statement = try connection.cached(sql)
        try statement.bind(bindings + [.integer(Int64(limit ?? -1))])
        return statement
    }

    private func select<Row>(
        _ table: HistoryTable, filter: HistoryFilter, limit: Int?, decode: (Statement) -> Row
    ) throws(StoreError) -> [Row] {
        let statement = try selectStatement(table, filter: filter, limit: limit)
        var rows: [Row] = []
        while try statement.step() { rows.append(decode(statement)) }
        statement.reset()
        return rows.reversed()
    }

    private func changed<Row>(_ table: HistoryTable, sinceRev: Int64, decode: (Statement) -> Row) throws(StoreError) -> [Row] {
        let sql = "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.tableName) WHERE rev > ? ORDER BY rev, rowid"
        let statement = try connection.cached(sql)
        try statement.bind(.integer(sinceRev), at: 1)
        var rows: [Row] = []
        while try statement.step() { rows.append(decode(statement)) }
        statement.reset()
        return rows
    }

    /// Runs `body` with the underlying connection (for summary queries in this module).
    func withConnection<T>(_ body: (Connection) throws(StoreError) -> T) throws(StoreError) -> T { try body(connection) }
}

/// Follows a store: `poll()` returns what changed since the previous poll, or nil when nothing was committed.
public final class TailCursor {
    private let history: History
    /// The revision seen so far.
    public private(set) var revision: Int64
    private var primed = false

    /// Starts at the store's current revision (only later changes are returned), or at `fromRev`.
    public init(history: History, fromRev: Int64? = nil) throws(StoreError) {
        self.history = history
        if let fromRev {
            revision = fromRev
        } else {
            revision = try history.maxRev()
        }
    }

    /// Rows committed since the last poll; nil when `PRAGMA data_version` says nothing changed.
    public func poll() throws(StoreError) -> StoreChanges? {
        // The first poll always looks: rows after `fromRev` may predate the data_version baseline.
        guard try history.hasChanged() || !primed else { return nil }
        primed = true
        let changes = try history.changes(sinceRev: revision)
        revision = changes.revision
        return changes.isEmpty ? nil : changes
    }
}
