import CSQLite

// `lantern query sql` runs whatever the user types on a read-only connection, but `SQLITE_OPEN_READONLY`
// only guards the store itself: `VACUUM INTO '/any/path.db'` still creates and fills a new file (and
// `PRAGMA query_only` does not stop it either). So user SQL is checked before it runs, not left to SQLite.

extension Connection {
    /// Prepares one user-supplied statement, refusing anything that is not a read with a `.readOnly` error
    /// that says why: statements SQLite does not call read-only (`sqlite3_stmt_readonly`: every write, and
    /// `VACUUM INTO`), and ATTACH/DETACH, which SQLite calls read-only but which open other files.
    func prepareRead(_ sql: String) throws(StoreError) -> Statement {
        let db = try openHandle(sql: sql)
        // The authorizer runs while the statement is compiled; it is removed again before anything runs.
        sqlite3_set_authorizer(db, { _, action, _, _, _, _ in
            action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK
        }, nil)
        defer { sqlite3_set_authorizer(db, nil, nil) }
        let statement: Statement
        do {
            statement = try prepare(sql)
        } catch where (error.sqliteCode ?? 0) & 0xFF == SQLITE_AUTH {
            throw StoreError(
                code: .readOnly, message: "ATTACH and DETACH are refused: only statements that read this store may run",
                sql: sql, sqliteCode: error.sqliteCode)
        }
        guard statement.isReadOnly else {
            throw StoreError(
                code: .readOnly,
                message: "refused: the statement would write (only reads may run: SELECT, WITH, EXPLAIN, read-only PRAGMA)",
                sql: sql)
        }
        return statement
    }
}
