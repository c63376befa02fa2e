import CSQLite

/// An error from the store: what went wrong (`code`), SQLite's own message, and the SQL when one was running.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure, stable for callers to switch on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case cannotOpen, notAStore, newerSchema, olderSchema, busy, readOnly, full, constraint, sql, io, closed, queueFull, other
        }
        fileprivate let base: Base

        /// The file could not be opened (missing, bad path, permissions).
        public static let cannotOpen = Code(base: .cannotOpen)
        /// The file is not SQLite, or is SQLite but not a Lantern store.
        public static let notAStore = Code(base: .notAStore)
        /// The store was written by a newer Lantern than this binary; it was left unchanged.
        public static let newerSchema = Code(base: .newerSchema)
        /// A reader found a store that its writer has not migrated to this binary's schema yet.
        public static let olderSchema = Code(base: .olderSchema)
        /// Another connection held the lock longer than the busy timeout.
        public static let busy = Code(base: .busy)
        /// A write on a read-only connection, file or directory.
        public static let readOnly = Code(base: .readOnly)
        /// The disk (or the store's size cap) is full.
        public static let full = Code(base: .full)
        /// A row broke a CHECK, NOT NULL or UNIQUE rule.
        public static let constraint = Code(base: .constraint)
        /// The SQL itself is wrong (syntax, unknown table or column, misuse).
        public static let sql = Code(base: .sql)
        /// An I/O error below SQLite.
        public static let io = Code(base: .io)
        /// The connection or recorder is closed.
        public static let closed = Code(base: .closed)
        /// The recorder's bounded queue was full.
        public static let queueFull = Code(base: .queueFull)
        /// Anything else SQLite reported.
        public static let other = Code(base: .other)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable message (SQLite's message, plus context).
    public var message: String
    /// The SQL that failed, when there was one.
    public var sql: String?
    /// SQLite's extended result code, when SQLite reported the error.
    public var sqliteCode: Int32?

    public init(code: Code, message: String, sql: String? = nil, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.sqliteCode = sqliteCode
    }

    public var description: String {
        guard let sql else { return message }
        let oneLine = sql.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.joined(separator: " ")
        let shown = oneLine.count > 200 ? String(oneLine.prefix(200)) + "…" : oneLine
        return "\(message) (in: \(shown))"
    }

    /// Maps a SQLite result code to an error with SQLite's message for `handle`.
    static func sqlite(_ result: Int32, handle: OpaquePointer?, sql: String? = nil, context: String? = nil) -> StoreError {
        let text: String
        if let handle, let cMessage = sqlite3_errmsg(handle) {
            text = String(cString: cMessage)
        } else {
            text = String(cString: sqlite3_errstr(result))
        }
        let message = context.map { "\($0): \(text)" } ?? text
        return StoreError(code: Code(sqliteResult: result), message: message, sql: sql, sqliteCode: result)
    }
}

extension StoreError.Code {
    init(sqliteResult result: Int32) {
        switch result & 0xFF {
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH: self = .cannotOpen
        case SQLITE_NOTADB: self = .notAStore
        case SQLITE_BUSY, SQLITE_LOCKED: self = .busy
        case SQLITE_READONLY: self = .readOnly
        case SQLITE_FULL: self = .full
        case SQLITE_CONSTRAINT: self = .constraint
        case SQLITE_ERROR, SQLITE_MISUSE, SQLITE_RANGE, SQLITE_MISMATCH, SQLITE_TOOBIG: self = .sql
        case SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_PROTOCOL: self = .io
        default: self = .other
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
