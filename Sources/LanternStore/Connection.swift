import CSQLite

/// A thin wrapper over one SQLite connection: open flags, `execute`, a prepared-statement cache,
/// typed binding and errors that carry SQLite's message and the SQL.
///
/// Not thread-safe and not `Sendable`: a connection has exactly one owner (the Recorder's writer
/// thread, or one `History`).
public final class Connection {
    /// How to open the file.
    public enum Mode: Sendable {
        /// `SQLITE_OPEN_READONLY`: readers (`History`, `lantern query`). Any write is refused by SQLite.
        case readOnly
        /// `SQLITE_OPEN_READWRITE`: the file must exist.
        case readWrite
        /// `SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE`: the writer; a missing file is created (its directory is not).
        case readWriteCreate
    }

    /// The file this connection opened.
    public let path: String
    private var handle: OpaquePointer?
    private var cache: [String: Statement] = [:]

    /// Opens `path`. Fails with `.cannotOpen` for a missing file (read modes) or an unusable path.
    public init(path: String, mode: Mode) throws(StoreError) {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var db: OpaquePointer?
        let result = sqlite3_open_v2(path, &db, flags, nil)
        guard result == SQLITE_OK else {
            let error = StoreError.sqlite(result, handle: db, context: "cannot open \(path)")
            sqlite3_close_v2(db)
            throw error
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Finalizes cached statements and closes the connection. Idempotent.
    public func close() {
        for statement in cache.values { statement.finalize() }
        cache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Whether `close()` has run.
    public var isClosed: Bool { handle == nil }

    func openHandle(sql: String? = nil) throws(StoreError) -> OpaquePointer {
        guard let handle else { throw StoreError(code: .closed, message: "the connection to \(path) is closed", sql: sql) }
        return handle
    }

    /// Runs one or more statements that return no rows (DDL, PRAGMA, BEGIN/COMMIT).
    public func execute(_ sql: String) throws(StoreError) {
        let db = try openHandle(sql: sql)
        var errorMessage: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        if let errorMessage { sqlite3_free(errorMessage) }
        guard result == SQLITE_OK else { throw StoreError.sqlite(result, handle: db, sql: sql) }
    }

    /// A prepared statement for `sql`, reused from the cache (reset, bindings cleared) when it was prepared before.
    public func cached(_ sql: String) throws(StoreError) -> Statement {
        if let statement = cache[sql] {
            statement.reset()
            return statement
        }
        let statement = try prepare(sql)
        cache[sql] = statement
        return statement
    }

    /// A new prepared statement for exactly one SQL statement (trailing statements are an error). Not cached.
    public func prepare(_ sql: String) throws(StoreError) -> Statement {
        let db = try openHandle(sql: sql)
        var raw: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let result = sql.withCString { text in
            let prepared = sqlite3_prepare_v3(db, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, &tail)
            // Anything but whitespace or `;` after the first statement means a second statement.
            if prepared == SQLITE_OK, var cursor = tail {
                while cursor.pointee != 0 {
                    let c = UInt8(bitPattern: cursor.pointee)
                    if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 && c != 0x3B { return Int32(-1) }
                    cursor += 1
                }
            }
            return prepared
        }
        if result == -1 {
            sqlite3_finalize(raw)
            throw StoreError(code: .sql, message: "only one SQL statement at a time", sql: sql)
        }
        guard result == SQLITE_OK else { throw StoreError.sqlite(result, handle: db, sql: sql) }
        guard let raw else { throw StoreError(code: .sql, message: "empty SQL statement", sql: sql) }
        return Statement(raw, connection: db, sql: sql)
    }

    /// Runs one statement with `bindings` and discards any rows.
    public func run(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) {
        let statement = try cached(sql)
        try statement.bind(bindings)
        while try statement.step() {}
        statement.reset()
    }

    /// Runs one statement and returns all its rows.
    public func rows(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) -> [[SQLValue]] {
        let statement = try cached(sql)
        try statement.bind(bindings)
        var rows: [[SQLValue]] = []
        while try statement.step() { rows.append(statement.row()) }
        statement.reset()
        return rows
    }

    /// The first column of the first row, or `.null` when there is no row.
    public func scalar(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) -> SQLValue {
        let statement = try cached(sql)
        try statement.bind(bindings)
        let value: SQLValue = try statement.step() ? statement.value(at: 0) : .null
        statement.reset()
        return value
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    public var changes: Int { handle.map { Int(sqlite3_changes($0)) } ?? 0 }

    /// The rowid of the last inserted row on this connection.
    public var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Whether a transaction is open.
    public var inTransaction: Bool { handle.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// `PRAGMA busy_timeout`: how long to wait for another connection's lock.
    public func setBusyTimeout(milliseconds: Int) {
        if let handle { sqlite3_busy_timeout(handle, Int32(clamping: milliseconds)) }
    }
}

/// A prepared statement owned by a `Connection`.
public final class Statement {
    private var raw: OpaquePointer?
    private let connection: OpaquePointer
    /// The statement's SQL, for error messages.
    public let sql: String

    init(_ raw: OpaquePointer, connection: OpaquePointer, sql: String) {
        self.raw = raw
        self.connection = connection
        self.sql = sql
    }

    deinit { finalize() }

    func finalize() {
        sqlite3_finalize(raw)
        raw = nil
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `value` to parameter `index` (1-based).
    public func bind(_ value: SQLValue, at index: Int32) throws(StoreError) {
        let result: Int32
        switch value {
        case .null: result = sqlite3_bind_null(raw, index)
        case .integer(let number): result = sqlite3_bind_int64(raw, index, number)
        case .real(let number): result = sqlite3_bind_double(raw, index, number)
        case .text(let text): result = sqlite3_bind_text(raw, index, text, -1, Self.transient)
        case .blob(let bytes):
            result = bytes.withUnsafeBytes { sqlite3_bind_blob(raw, index, $0.baseAddress, Int32($0.count), Self.transient) }
        }
        guard result == SQLITE_OK else { throw StoreError.sqlite(result, handle: connection, sql: sql) }
    }

    /// Binds `values` to parameters 1, 2, 3...
    public func bind(_ values: [SQLValue]) throws(StoreError) {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    /// Advances: `true` when a row is available, `false` when done.
    public func step() throws(StoreError) -> Bool {
        let result = sqlite3_step(raw)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = StoreError.sqlite(result, handle: connection, sql: sql)
            sqlite3_reset(raw)
            throw error
        }
    }

    /// Resets for another run and clears the bindings.
    public func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    /// Resets for another run, keeping the bindings: for a caller that binds every parameter each run (clearing
    /// them was 2k instructions per invocation upsert).
    public func resetKeepingBindings() {
        sqlite3_reset(raw)
    }

    /// The number of result columns.
    public var columnCount: Int { Int(sqlite3_column_count(raw)) }

    /// The name of result column `index` (0-based).
    public func columnName(_ index: Int) -> String {
        sqlite3_column_name(raw, Int32(index)).map { String(cString: $0) } ?? "column\(index + 1)"
    }

    /// Whether the statement only reads (SQLite's own judgement).
    public var isReadOnly: Bool { sqlite3_stmt_readonly(raw) != 0 }

    /// The value of column `index` (0-based) in the current row.
    public func value(at index: Int) -> SQLValue {
        let column = Int32(index)
        switch sqlite3_column_type(raw, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(raw, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(raw, column))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(raw, column) else { return .null }
            return .text(String(cString: text))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(raw, column))
            guard count > 0, let bytes = sqlite3_column_blob(raw, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    /// All columns of the current row.
    public func row() -> [SQLValue] { (0..<columnCount).map { value(at: $0) } }

    /// Typed column readers for the current row (nil for NULL).
    public func int64(_ index: Int) -> Int64? {
        sqlite3_column_type(raw, Int32(index)) == SQLITE_NULL ? nil : sqlite3_column_int64(raw, Int32(index))
    }
    public func int(_ index: Int) -> Int? { int64(index).map { Int($0) } }
    public func double(_ index: Int) -> Double? {
        sqlite3_column_type(raw, Int32(index)) == SQLITE_NULL ? nil : sqlite3_column_double(raw, Int32(index))
    }
    public func string(_ index: Int) -> String? {
        guard sqlite3_column_type(raw, Int32(index)) != SQLITE_NULL, let text = sqlite3_column_text(raw, Int32(index)) else { return nil }
        return String(cString: text)
    }
    public func bool(_ index: Int) -> Bool? { int64(index).map { $0 != 0 } }
}
