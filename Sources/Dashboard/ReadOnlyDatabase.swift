import LanternStore

/// The dashboard's read-only use of a store `Connection`: mapped rows and `PRAGMA data_version`.
/// Owned by one thread at a time; it is not Sendable.
final class ReadOnlyDatabase {
    private let connection: Connection
    var path: String { connection.path }

    init(path: String) throws(DashboardError) {
        do {
            connection = try Connection(path: path, mode: .readOnly)
        } catch {
            throw DashboardError(.sqlite, "cannot open \(path): \(error.message)")
        }
        connection.setBusyTimeout(milliseconds: 2000)
    }

    /// Runs a query and maps each row.
    func query<T>(_ sql: String, _ bindings: [SQLValue] = [], _ map: (SQLRow) -> T) throws(DashboardError) -> [T] {
        do {
            let statement = try connection.cached(sql)
            // Reset on every path: a statement left mid-step keeps its read transaction open, and the
            // connection would then see a frozen snapshot (and a frozen `data_version`) for good.
            defer { statement.reset() }
            try statement.bind(bindings)
            var rows: [T] = []
            while try statement.step() { rows.append(map(SQLRow(statement: statement))) }
            return rows
        } catch {
            throw DashboardError(.sqlite, error.message)
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

/// The current row of a stepping statement, read by column index.
struct SQLRow {
    fileprivate let statement: Statement

    func int(_ column: Int32) -> Int64 { statement.int64(Int(column)) ?? 0 }
    func optionalInt(_ column: Int32) -> Int64? { statement.int64(Int(column)) }
    func optionalInteger(_ column: Int32) -> Int? { statement.int(Int(column)) }
    func double(_ column: Int32) -> Double? { statement.double(Int(column)) }
    func text(_ column: Int32) -> String? { statement.string(Int(column)) }
    /// The column as what it holds (integer, real, text, blob or null).
    func value(_ column: Int32) -> SQLValue { statement.value(at: Int(column)) }
}
