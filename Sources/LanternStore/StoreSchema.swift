/// Recognising, creating and migrating a Lantern store. The migrations are `schema/NNN_*.sql`,
/// embedded at build time by the EmbedSchema plugin (`EmbeddedSchema.migrations`).
public enum StoreSchema {
    /// `PRAGMA application_id` of every Lantern store ("LNTR").
    public static let applicationID: Int32 = 0x4C4E_5452

    /// The newest schema version this binary knows.
    public static var latestVersion: Int { EmbeddedSchema.migrations.last?.version ?? 0 }

    /// What a file holds.
    enum Contents: Equatable {
        /// A new, empty database file: the writer initialises it.
        case empty
        /// SQLite, but some other application's database.
        case foreign(applicationID: Int32)
        /// A Lantern store at schema `version`.
        case lantern(version: Int)
    }

    static func inspect(_ connection: Connection) throws(StoreError) -> Contents {
        let applicationID: Int32
        let objects: Int64
        do {
            applicationID = Int32(truncatingIfNeeded: try connection.scalar("PRAGMA application_id").int64 ?? 0)
            objects = try connection.scalar("SELECT count(*) FROM sqlite_master").int64 ?? 0
        } catch let error where error.code == .notAStore {
            throw StoreError(
                code: .notAStore, message: "\(connection.path) is not a SQLite database (\(error.message))",
                sqliteCode: error.sqliteCode)
        }
        if applicationID == 0 && objects == 0 { return .empty }
        guard applicationID == Self.applicationID else { return .foreign(applicationID: applicationID) }
        let version = try connection.scalar("SELECT max(version) FROM lantern_schema").int64 ?? 0
        return .lantern(version: Int(version))
    }

    /// Opens the store for the single writer: initialises an empty file, migrates an older store forward in one
    /// transaction, refuses a foreign database or a newer schema without modifying the file.
    static func openForWriting(path: String, busyTimeoutMs: Int) throws(StoreError) -> Connection {
        try StoreFile.prepareForWriting(path)
        let connection = try Connection(path: path, mode: .readWriteCreate)
        connection.setBusyTimeout(milliseconds: busyTimeoutMs)
        // Check before touching anything: switching to WAL would already modify a foreign file.
        try refuseUnusable(inspect(connection), path: path, writer: true)
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=NORMAL")
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            // Look again under the write lock: another writer may have initialised the file meanwhile.
            let contents = try inspect(connection)
            try refuseUnusable(contents, path: path, writer: true)
            var current = 0
            if case .lantern(let version) = contents { current = version }
            for migration in EmbeddedSchema.migrations where migration.version > current {
                do throws(StoreError) {
                    try connection.execute(migration.sql)
                } catch {
                    throw StoreError(
                        code: error.code, message: "migration \(migration.name) failed: \(error.message)",
                        sql: error.sql, sqliteCode: error.sqliteCode)
                }
                try connection.run(
                    "INSERT INTO lantern_schema (version, applied_at) VALUES (?, ?)",
                    [.integer(Int64(migration.version)), .integer(epochMicros())])
            }
            if current < latestVersion {
                try connection.execute("PRAGMA application_id = \(applicationID)")
                try connection.execute("PRAGMA user_version = \(latestVersion)")
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            connection.close()
            throw error
        }
        return connection
    }

    /// Creates (or migrates) the store at `path` and returns an idle connection to it, for a process that hands
    /// the store to another user and keeps it open so that SQLite's `-wal` and `-shm` files stay in place
    /// (the emulator, for its unprivileged sandbox: see docs/emulator.md).
    public static func openAndKeep(path: String) throws(StoreError) -> Connection {
        // Briefly: a store another process holds locked is the collector's to wait for, not the emulator's.
        let connection = try openForWriting(path: path, busyTimeoutMs: 200)
        // A read makes SQLite create the -wal and -shm files now, while this process may.
        _ = try connection.scalar("SELECT count(*) FROM sqlite_master")
        return connection
    }

    /// Opens the store read-only for a reader; refuses anything but a Lantern store at this binary's schema.
    static func openForReading(path: String) throws(StoreError) -> Connection {
        let connection: Connection
        do {
            connection = try Connection(path: path, mode: .readOnly)
        } catch where error.code == .cannotOpen && !fileExists(path) {
            throw StoreError(code: .cannotOpen, message: "no store at \(path): no such file", sqliteCode: error.sqliteCode)
        }
        try refuseUnusable(inspect(connection), path: path, writer: false)
        return connection
    }

    private static func refuseUnusable(_ contents: Contents, path: String, writer: Bool) throws(StoreError) {
        switch contents {
        case .empty where writer:
            return
        case .empty:
            throw StoreError(code: .notAStore, message: "\(path) is an empty SQLite file, not a Lantern store")
        case .foreign(let applicationID):
            throw StoreError(
                code: .notAStore,
                message: "\(path) is a SQLite database but not a Lantern store (application_id \(applicationID), expected \(Self.applicationID)); left unchanged")
        case .lantern(let version) where version > latestVersion:
            throw StoreError(
                code: .newerSchema,
                message: "\(path) has store schema v\(version), newer than this binary's v\(latestVersion); upgrade Lantern to read it (the store was left unchanged)")
        case .lantern(let version) where version < latestVersion && !writer:
            throw StoreError(
                code: .olderSchema,
                message: "\(path) has store schema v\(version), older than this binary's v\(latestVersion); open it once with the collector (or `lantern collect`) to migrate it")
        case .lantern:
            return
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }
