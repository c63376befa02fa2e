/// Why the dashboard cannot show a store.
public struct DashboardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The file does not exist (yet).
        case storeMissing
        /// The file exists but holds no schema yet (the writer is creating it).
        case storeNotReady
        /// The file is not SQLite, or SQLite without Lantern's tables.
        case notLanternStore
        /// The store was written by a newer Lantern.
        case newerSchema
        /// SQLite failed on a read.
        case sqlite
        /// The terminal could not be set up.
        case terminal
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
