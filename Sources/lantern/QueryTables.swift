import ArgumentParser
import LanternStore

/// Shared body of the table listings: open, filter, select, print.
enum QueryListing {
    static func run(
        _ table: HistoryTable, options: QueryOptions, list: ListOptions, tableColumns: [String],
        sparseTableColumns: Set<String> = [], refine: (inout HistoryFilter) throws -> Void
    ) throws {
        try QueryFailure.reporting {
            var filter = try list.filter()
            try refine(&filter)
            let limit = try list.validatedLimit()
            let history = try options.openHistory()
            let result = try history.rows(table, filter: filter, limit: limit)
            let output = QueryOutput(
                format: options.outputFormat, tableColumns: tableColumns, sparseTableColumns: sparseTableColumns)
            writeStandardOutput(output.render(result))
        }
    }
}

struct QueryInvocations: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "invocations", abstract: "One row per request id.")
    @OptionGroup var options: QueryOptions
    @OptionGroup var list: ListOptions
    @Option(help: "success, error, failure or timeout.") var status: String?
    @Option(help: "agent, runtimeDone, timeout, shutdown or report (Managed Instances).") var flushReason: String?
    @Flag(help: "Only cold starts.") var cold = false
    @Flag(help: "Only warm starts.") var warm = false
    @Option(name: .customLong("request-id"), help: "One request id.") var requestID: String?

    func run() throws {
        try QueryListing.run(
            .invocations, options: options, list: list,
            tableColumns: ["request_id", "invoked_at", "cold_start", "status", "error_type", "flush_reason", "in_flight",
                           "duration_ms", "billed_duration_ms", "max_memory_used_mb", "init_duration_ms", "agent_events"],
            // Managed Instances only: a classic listing keeps its columns.
            sparseTableColumns: ["in_flight"]
        ) { filter in
            try QueryFailure.validate(status, option: "status", allowed: InvocationStatus.allCases.map(\.rawValue))
            try QueryFailure.validate(flushReason, option: "flush-reason", allowed: FlushReason.allCases.map(\.rawValue))
            if cold && warm { throw QueryFailure("--cold and --warm exclude each other") }
            filter.status = status
            filter.flushReason = flushReason
            filter.coldStart = cold ? true : (warm ? false : nil)
            filter.requestID = requestID
        }
    }
}

struct QueryProxies: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxies", abstract: "Proxy transactions made for invocations whose agent never reported.")
    @OptionGroup var options: QueryOptions
    @OptionGroup var list: ListOptions
    @Option(help: "runtimeDone, shutdown, timeout or report (Managed Instances).") var trigger: String?
    @Option(help: "success, failure or unknown.") var outcome: String?
    @Option(name: .customLong("request-id"), help: "One request id.") var requestID: String?

    func run() throws {
        try QueryListing.run(
            .proxies, options: options, list: list,
            tableColumns: ["request_id", "transaction_id", "trigger", "result", "outcome", "duration_ms", "created_at",
                           "forwarded_at"]
        ) { filter in
            try QueryFailure.validate(trigger, option: "trigger", allowed: ProxyTrigger.allCases.map(\.rawValue))
            try QueryFailure.validate(outcome, option: "outcome", allowed: ["success", "failure", "unknown"])
            filter.trigger = trigger
            filter.outcome = outcome
            filter.requestID = requestID
        }
    }
}

struct QueryShutdowns: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shutdowns", abstract: "SHUTDOWN events and how they went.")
    @OptionGroup var options: QueryOptions
    @OptionGroup var list: ListOptions
    @Option(help: "spindown, timeout, failure (or what an emulator sent).") var reason: String?

    func run() throws {
        try QueryListing.run(
            .shutdowns, options: options, list: list,
            tableColumns: ["received_at", "environment_id", "reason", "pending_invocations", "proxies_created",
                           "flush_outcome", "flush_duration_ms", "exited_at"]
        ) { filter in
            filter.reason = reason
        }
    }
}

struct QueryFlushes: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "flushes", abstract: "Sends to the APM Server and dropped batches.")
    @OptionGroup var options: QueryOptions
    @OptionGroup var list: ListOptions
    @Option(help: "sent, failed, dropped or deferred.") var outcome: String?
    @Option(help: "invocation, size, age, retry, shutdown, intake or background.") var trigger: String?
    @Option(name: .customLong("request-id"), help: "One request id.") var requestID: String?

    func run() throws {
        try QueryListing.run(
            .flushes, options: options, list: list,
            tableColumns: ["started_at", "request_id", "trigger", "events", "bytes", "http_status", "outcome", "duration_ms",
                           "attempt", "error"]
        ) { filter in
            try QueryFailure.validate(outcome, option: "outcome", allowed: FlushOutcome.allCases.map(\.rawValue))
            try QueryFailure.validate(trigger, option: "trigger", allowed: FlushTrigger.allCases.map(\.rawValue))
            filter.outcome = outcome
            filter.trigger = trigger
            filter.requestID = requestID
        }
    }
}

struct QueryLogs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Function, extension and platform log lines.")
    @OptionGroup var options: QueryOptions
    @OptionGroup var list: ListOptions
    @Option(name: .customLong("request-id"), help: "One request id.") var requestID: String?
    @Option(help: "function, extension or platform.") var source: String?
    @Option(help: "A log level, e.g. ERROR (any case).") var level: String?

    func run() throws {
        try QueryListing.run(
            .logs, options: options, list: list, tableColumns: ["at", "source", "level", "request_id", "message"]
        ) { filter in
            try QueryFailure.validate(source, option: "source", allowed: LogSource.allCases.map(\.rawValue))
            filter.requestID = requestID
            filter.source = source
            filter.level = level
        }
    }
}

struct QueryEvents: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "The collector's own lifecycle events.")
    @OptionGroup var options: QueryOptions
    @OptionGroup var list: ListOptions
    @Option(help: "An event kind, e.g. registered, subscribed, records_dropped.") var kind: String?

    func run() throws {
        try QueryListing.run(
            .events, options: options, list: list, tableColumns: ["at", "environment_id", "kind", "name", "detail"]
        ) { filter in
            filter.kind = kind
        }
    }
}

struct QueryEnvironments: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "environments", abstract: "One row per execution environment (a fleet store holds many).")
    @OptionGroup var options: QueryOptions
    @OptionGroup var list: ListOptions
    @Option(help: "spindown, timeout, failure (or what an emulator sent).") var reason: String?

    func run() throws {
        try QueryListing.run(
            .environments, options: options, list: list,
            tableColumns: ["id", "function_name", "function_version", "started_at", "initialization_type",
                           "max_concurrency", "shutdown_at", "shutdown_reason"]
        ) { filter in
            filter.reason = reason
        }
    }
}
