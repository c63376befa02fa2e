// The writer of `lantern import`: facts read back from the APM Server's lifecycle events (a fleet of environments
// and functions) written into a store. Unlike the Recorder it runs in the caller's thread and reports, per line,
// what the store refused: each line is written whole or not at all (a SAVEPOINT per line), lines are committed in
// batches (one transaction per `write` call), and importing the same events twice changes nothing: every
// statement inserts what is missing and updates only a value that differs, keyed by the facts' natural keys
// (request id; environment id; environment id + received time for a SHUTDOWN).

/// The facts of one imported line, written together or not at all.
public struct ImportedFacts: Sendable, Equatable {
    /// Environment id, function name and version, memory, initialization type, max concurrency; `startedAt` is the
    /// earliest time seen (the store keeps the minimum); `shutdownAt`/`shutdownReason` from a SHUTDOWN.
    public var environment: EnvironmentFact
    public var invocation: InvocationFact?
    public var proxy: ProxyTransactionRecord?
    public var shutdown: ShutdownRecord?

    public init(
        environment: EnvironmentFact, invocation: InvocationFact? = nil, proxy: ProxyTransactionRecord? = nil,
        shutdown: ShutdownRecord? = nil
    ) {
        self.environment = environment
        self.invocation = invocation
        self.proxy = proxy
        self.shutdown = shutdown
    }
}

/// Writes imported facts into a store (created or migrated as the Recorder would).
public final class ImportWriter {
    private let connection: Connection
    private var revision: Int64

    public init(path: String) throws(StoreError) {
        connection = try StoreSchema.openForWriting(path: path, busyTimeoutMs: 5_000)
        revision = try connection.scalar(RecordStatements.maxRevision).int64 ?? 0
    }

    /// Writes `lines` in one transaction, each line in its own savepoint. Returns the lines the store refused
    /// (by index in `lines`, with the reason); the others are committed. Throws (and commits nothing) when the
    /// transaction itself fails (disk full, locked).
    public func write(_ lines: [ImportedFacts]) throws(StoreError) -> [(index: Int, error: StoreError)] {
        let rev = revision + 1
        var refused: [(index: Int, error: StoreError)] = []
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            for (index, line) in lines.enumerated() {
                // Prepared once (`run` caches): `execute` would parse the statement again for every line.
                try connection.run("SAVEPOINT line")
                do throws(StoreError) {
                    try write(line, rev: rev)
                    try connection.run("RELEASE line")
                } catch where error.code == .constraint || error.code == .sql {
                    try connection.run("ROLLBACK TO line")
                    try connection.run("RELEASE line")
                    refused.append((index, error))
                }
            }
            try connection.execute("COMMIT")
        } catch {
            if connection.inTransaction { try? connection.execute("ROLLBACK") }
            throw error
        }
        revision = rev
        return refused
    }

    /// Checkpoints and closes the store.
    public func close() {
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
    }

    private func write(_ line: ImportedFacts, rev: Int64) throws(StoreError) {
        let env = line.environment
        try connection.run(ImportStatements.upsertEnvironment, [
            .text(env.id), .init(env.functionName), .init(env.functionVersion), .init(env.memoryMB),
            .init(env.initializationType), .init(env.maxConcurrency), .init(env.startedAt), .init(env.shutdownAt),
            .init(env.shutdownReason), .integer(rev),
        ])
        if let fact = line.invocation {
            try connection.run(ImportStatements.upsertInvocation, ImportStatements.invocationBindings(fact, rev: rev))
        }
        if let proxy = line.proxy {
            try connection.run(ImportStatements.insertProxy, [
                .text(proxy.requestID), .init(proxy.environmentID), .text(proxy.transactionID), .init(proxy.traceID),
                .init(proxy.result), .init(proxy.outcome), .init(proxy.durationMs), .text(proxy.trigger.rawValue),
                .integer(proxy.createdAt), .init(proxy.forwardedAt), .integer(rev),
            ])
        }
        if let shutdown = line.shutdown {
            try connection.run(ImportStatements.insertShutdown, [
                .init(shutdown.environmentID), .integer(shutdown.receivedAt), .text(shutdown.reason),
                .init(shutdown.deadlineAt), .integer(Int64(shutdown.pendingInvocations)),
                .integer(Int64(shutdown.proxiesCreated)), .init(shutdown.flushOutcome), .init(shutdown.flushDurationMs),
                .init(shutdown.exitedAt), .integer(rev),
            ])
        }
    }
}

/// The SQL of `ImportWriter`: inserts what is missing, updates only what differs (so a second import writes
/// nothing, not even a new `rev`).
enum ImportStatements {
    /// Fill-in only: a value already stored is kept, except `started_at`, which keeps the earliest.
    static let upsertEnvironment = """
        INSERT INTO environments (id, function_name, function_version, memory_mb, initialization_type,
            max_concurrency, started_at, shutdown_at, shutdown_reason, rev)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        ON CONFLICT (id) DO UPDATE SET
            function_name = coalesce(function_name, excluded.function_name),
            function_version = coalesce(function_version, excluded.function_version),
            memory_mb = coalesce(memory_mb, excluded.memory_mb),
            initialization_type = coalesce(initialization_type, excluded.initialization_type),
            max_concurrency = coalesce(max_concurrency, excluded.max_concurrency),
            started_at = min(coalesce(started_at, excluded.started_at), coalesce(excluded.started_at, started_at)),
            shutdown_at = coalesce(shutdown_at, excluded.shutdown_at),
            shutdown_reason = coalesce(shutdown_reason, excluded.shutdown_reason),
            rev = excluded.rev
        WHERE (function_name IS NULL AND excluded.function_name IS NOT NULL)
            OR (function_version IS NULL AND excluded.function_version IS NOT NULL)
            OR (memory_mb IS NULL AND excluded.memory_mb IS NOT NULL)
            OR (initialization_type IS NULL AND excluded.initialization_type IS NOT NULL)
            OR (max_concurrency IS NULL AND excluded.max_concurrency IS NOT NULL)
            OR (excluded.started_at IS NOT NULL AND (started_at IS NULL OR excluded.started_at < started_at))
            OR (shutdown_at IS NULL AND excluded.shutdown_at IS NOT NULL)
            OR (shutdown_reason IS NULL AND excluded.shutdown_reason IS NOT NULL)
        """

    /// The invocation columns a lifecycle event carries.
    static let invocationColumns = [
        "environment_id", "function_arn", "invoked_at", "timeout_ms", "cold_start", "runtime_done_at", "status",
        "error_type", "runtime_duration_ms", "flush_reason", "released_at", "duration_ms", "billed_duration_ms",
        "memory_size_mb", "max_memory_used_mb", "init_duration_ms", "transaction_id", "in_flight",
    ]

    /// A nil value keeps the stored one; the row is updated only when a value differs.
    static let upsertInvocation: String = {
        let columns = invocationColumns
        let placeholders = (1...columns.count + 2).map { "?\($0)" }.joined(separator: ", ")
        let updates = columns.map { "\($0) = coalesce(excluded.\($0), \($0))" } + ["rev = excluded.rev"]
        let differs = columns.map { "(excluded.\($0) IS NOT NULL AND excluded.\($0) IS NOT \($0))" }
        return """
            INSERT INTO invocations (request_id, \(columns.joined(separator: ", ")), rev) VALUES (\(placeholders))
            ON CONFLICT (request_id) DO UPDATE SET \(updates.joined(separator: ", "))
            WHERE \(differs.joined(separator: " OR "))
            """
    }()

    static func invocationBindings(_ fact: InvocationFact, rev: Int64) -> [SQLValue] {
        [
            .text(fact.requestID), .init(fact.environmentID), .init(fact.functionARN), .init(fact.invokedAt),
            .init(fact.timeoutMs), .init(fact.coldStart), .init(fact.runtimeDoneAt), .init(fact.status),
            .init(fact.errorType), .init(fact.runtimeDurationMs), .init(fact.flushReason), .init(fact.releasedAt),
            .init(fact.durationMs), .init(fact.billedDurationMs), .init(fact.memorySizeMB), .init(fact.maxMemoryUsedMB),
            .init(fact.initDurationMs), .init(fact.transactionID), .init(fact.inFlight), .integer(rev),
        ]
    }

    /// One proxy per request id: an imported one never replaces a stored one.
    static let insertProxy = """
        INSERT INTO proxy_transactions (request_id, environment_id, transaction_id, trace_id, result, outcome,
            duration_ms, trigger, created_at, forwarded_at, rev)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
        ON CONFLICT (request_id) DO NOTHING
        """

    /// A SHUTDOWN is its environment id and received time: inserted once.
    static let insertShutdown = """
        INSERT INTO shutdowns (environment_id, received_at, reason, deadline_at, pending_invocations, proxies_created,
            flush_outcome, flush_duration_ms, exited_at, rev)
        SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
        WHERE NOT EXISTS (SELECT 1 FROM shutdowns WHERE environment_id IS ?1 AND received_at = ?2)
        """
}
