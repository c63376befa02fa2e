import CSQLite

/// A read-only SQLite connection: just what the store tail needs (prepared reads and data_version).
/// Owned by one thread at a time; it is not Sendable.
final class ReadOnlyDatabase {
    private let handle: OpaquePointer
    let path: String

    init(path: String) throws(DashboardError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw DashboardError(.sqlite, "cannot open \(path): \(message)")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 2000)
        // query_only: a reader must never write, even by accident.
        try? execute("PRAGMA query_only = 1")
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs statements that return no rows.
    func execute(_ sql: String) throws(DashboardError) {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(error)
            throw DashboardError(.sqlite, message)
        }
    }

    /// Runs a query and maps each row.
    func query<T>(_ sql: String, _ bindings: [SQLValue] = [], _ map: (SQLRow) -> T) throws(DashboardError) -> [T] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw DashboardError(.sqlite, "\(String(cString: sqlite3_errmsg(handle))) in: \(sql)")
        }
        defer { sqlite3_finalize(statement) }
        for (index, value) in bindings.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .int(let v): sqlite3_bind_int64(statement, position, v)
            case .text(let v): sqlite3_bind_text(statement, position, v, -1, sqliteTransient)
            case .null: sqlite3_bind_null(statement, position)
            }
        }
        var rows: [T] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                rows.append(map(SQLRow(statement: statement)))
            } else if rc == SQLITE_DONE {
                return rows
            } else {
                throw DashboardError(.sqlite, "\(String(cString: sqlite3_errmsg(handle))) in: \(sql)")
            }
        }
    }

    /// The first row of a query, if any.
    func first<T>(_ sql: String, _ bindings: [SQLValue] = [], _ map: (SQLRow) -> T) throws(DashboardError) -> T? {
        try query(sql, bindings, map).first
    }

    /// `PRAGMA data_version`: changes whenever another connection commits.
    func dataVersion() throws(DashboardError) -> Int64 {
        try first("PRAGMA data_version") { $0.int(0) } ?? 0
    }
}

/// A value bound to a statement parameter.
enum SQLValue {
    case int(Int64)
    case text(String)
    case null
}

/// The current row of a stepping statement.
struct SQLRow {
    fileprivate let statement: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }
    func optionalInteger(_ column: Int32) -> Int? { isNull(column) ? nil : Int(int(column)) }
    func double(_ column: Int32) -> Double? { isNull(column) ? nil : sqlite3_column_double(statement, column) }
    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, column) else { return nil }
        return String(cString: pointer)
    }
}

/// SQLite copies bound text when told the buffer is transient (a cast macro Swift cannot import).
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
