import ArgumentParser
import Foundation
import LanternStore

/// `lantern query stats`: counts and percentiles, as metric/value rows.
struct QueryStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Counts by status, flush reason and shutdown reason; p50/p95/p99 of duration, billed and post-runtime time, and of invocations in flight (Managed Instances); cold starts; proxies; drops; what the size bound pruned.")
    @OptionGroup var options: QueryOptions
    @Option(help: "Only rows from this far back (15m, 2h, 3d) or since an ISO-8601 time.") var since: String?
    @Option(help: "Only this function's environments (a fleet store from `lantern import` holds many).") var function: String?
    @Option(help: "Only this execution environment id.") var environment: String?

    func run() throws {
        try QueryFailure.reporting {
            var sinceMicros: Int64?
            if let since { sinceMicros = try SinceParser.epochMicros(since) }
            let summary = try options.openHistory().summary(
                since: sinceMicros, environmentID: environment, functionName: function)
            let result = QueryResult(columns: ["metric", "value"], rows: Self.rows(summary).map { [.text($0.0), $0.1] })
            writeStandardOutput(QueryOutput(format: options.outputFormat).render(result))
        }
    }

    static func isoTime(micros: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }

    static func rows(_ summary: StoreSummary) -> [(String, SQLValue)] {
        var rows: [(String, SQLValue)] = []
        func count(_ name: String, _ value: Int) { rows.append((name, .integer(Int64(value)))) }
        func counts(_ prefix: String, _ values: [(key: String?, count: Int)]) {
            for entry in values { count("\(prefix).\(entry.key ?? "(none)")", entry.count) }
        }
        func percentiles(_ name: String, _ values: Percentiles) {
            count("\(name).count", values.count)
            for (label, value) in [("p50", values.p50), ("p95", values.p95), ("p99", values.p99), ("max", values.max)] {
                rows.append(("\(name).\(label)", value.map(SQLValue.real) ?? .null))
            }
        }
        count("invocations", summary.invocations)
        counts("status", summary.byStatus)
        counts("flush_reason", summary.byFlushReason)
        percentiles("duration_ms", summary.duration)
        percentiles("billed_duration_ms", summary.billedDuration)
        percentiles("post_runtime_ms", summary.postRuntime)
        // Managed Instances: invocations in flight when each started (count 0 on classic Lambda).
        percentiles("in_flight", summary.inFlight)
        count("cold_starts", summary.coldStarts)
        percentiles("init_duration_ms", summary.initDuration)
        count("shutdowns", summary.shutdowns)
        counts("shutdown_reason", summary.byShutdownReason)
        count("proxies", summary.proxies)
        counts("proxy_trigger", summary.proxiesByTrigger)
        count("dropped_flushes", summary.droppedFlushes)
        count("dropped_events", summary.droppedEvents)
        count("records_dropped_events", summary.recordsDroppedEvents)
        count("records_dropped", summary.recordsDropped)
        count("store_prunes", summary.prunes)
        count("pruned_invocations", summary.prunedInvocations)
        rows.append(("last_pruned_at", summary.lastPrunedAt.map { .text(Self.isoTime(micros: $0)) } ?? .null))
        return rows
    }
}

/// `lantern query sql "SELECT ..."`: any read-only SQL on a read-only connection.
struct QuerySQL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql", abstract: "Run one read-only SQL statement (writes, VACUUM INTO and ATTACH are refused).")
    @OptionGroup var options: QueryOptions
    @Argument(help: "One SQL statement, e.g. \"SELECT status, count(*) FROM invocations GROUP BY status\".")
    var statement: String

    func run() throws {
        try QueryFailure.reporting {
            let result = try options.openHistory().query(sql: statement)
            writeStandardOutput(QueryOutput(format: options.outputFormat).render(result))
        }
    }
}
