import ArgumentParser
import Foundation
import LanternStore

/// `lantern query`: the store's history from the shell.
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Read a Lantern store: invocations, proxies, shutdowns, flushes, logs, events, stats or raw SQL.",
        discussion: """
            The store is --db, else $LANTERN_DB, else ./lantern.db. It is opened read-only.
            Output is an aligned table on a terminal and JSON when piped, unless --format says otherwise.
            """,
        subcommands: [
            QueryEnvironments.self, QueryInvocations.self, QueryProxies.self, QueryShutdowns.self, QueryFlushes.self, QueryLogs.self,
            QueryEvents.self, QueryStats.self, QuerySQL.self,
        ]
    )
}

/// Options every `lantern query` subcommand takes.
struct QueryOptions: ParsableArguments {
    @Option(help: "The store file (default: $LANTERN_DB, else ./lantern.db).")
    var db: String?

    @Option(help: "Output format: table, json or csv (default: table on a terminal, json when piped).")
    var format: QueryOutputFormat?

    var storePath: String {
        if let db { return db }
        if let environment = ProcessInfo.processInfo.environment["LANTERN_DB"], !environment.isEmpty { return environment }
        return "lantern.db"
    }

    var outputFormat: QueryOutputFormat { format ?? (isatty(STDOUT_FILENO) != 0 ? .table : .json) }

    func openHistory() throws(QueryFailure) -> History {
        do {
            return try History(path: storePath)
        } catch {
            throw QueryFailure(error.description)
        }
    }
}

/// Options of the table listings.
struct ListOptions: ParsableArguments {
    @Option(help: "Only rows from this far back (15m, 2h, 3d, 90s) or since an ISO-8601 time (2026-11-25T23:00:00Z).")
    var since: String?

    @Option(help: "At most this many rows, the newest (default 100; 0 = all).")
    var limit: Int = 100

    @Option(help: "Only rows of this function's environments (a fleet store from `lantern import` holds many).")
    var function: String?

    @Option(help: "Only rows of this execution environment id.")
    var environment: String?

    func filter() throws(QueryFailure) -> HistoryFilter {
        var filter = HistoryFilter()
        if let since { filter.since = try SinceParser.epochMicros(since) }
        filter.functionName = function
        filter.environmentID = environment
        return filter
    }

    func validatedLimit() throws(QueryFailure) -> Int? {
        guard limit >= 0 else { throw QueryFailure("--limit must be 0 (all) or more, not \(limit)") }
        return limit == 0 ? nil : limit
    }
}

/// A `lantern query` failure: printed as one line on stderr, exit code 1.
struct QueryFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension QueryFailure {
    /// Runs `body`, turning any failure into one stderr line and exit code 1 (never a stack trace).
    static func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as QueryFailure {
            FileHandle.standardError.write(Data("lantern query: \(failure.description)\n".utf8))
            throw ExitCode(1)
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("lantern query: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Checks `value` is one of `allowed`.
    static func validate(_ value: String?, option: String, allowed: [String]) throws(QueryFailure) {
        guard let value, !allowed.contains(value) else { return }
        throw QueryFailure("--\(option) must be one of \(allowed.joined(separator: ", ")); got '\(value)'")
    }
}
