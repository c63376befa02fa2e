/// The SQL the Recorder runs for each kind of record, built once from the column lists of the schema.
enum RecordStatements {
    static let environmentColumns = [
        "id", "function_name", "function_version", "memory_mb", "region", "runtime", "log_stream", "source",
        "extension_name", "extension_version", "started_at", "registered_at", "ready_at", "init_duration_ms",
        "telemetry", "telemetry_detail", "shutdown_at", "shutdown_reason", "initialization_type", "max_concurrency",
    ]

    /// Upsert by id: nil keeps the stored value. `source` is NOT NULL with a default, so a nil source inserts
    /// 'lambda' but never overwrites a stored value.
    static let upsertEnvironment: String = {
        let columns = environmentColumns
        let sourceIndex = columns.firstIndex(of: "source")! + 1
        let values = columns.indices.map { index in
            index + 1 == sourceIndex ? "COALESCE(?\(sourceIndex), 'lambda')" : "?\(index + 1)"
        }
        let updates = columns.dropFirst().map { column in
            column == "source"
                ? "source = CASE WHEN ?\(sourceIndex) IS NULL THEN source ELSE excluded.source END"
                : "\(column) = COALESCE(excluded.\(column), \(column))"
        }
        return """
            INSERT INTO environments (\(columns.joined(separator: ", ")), rev)
            VALUES (\(values.joined(separator: ", ")), ?\(columns.count + 1))
            ON CONFLICT (id) DO UPDATE SET \(updates.joined(separator: ", ")), rev = excluded.rev
            """
    }()

    static let invocationColumns = [
        "request_id", "environment_id", "function_arn", "invoked_at", "deadline_at", "timeout_ms", "trace_id",
        "cold_start", "started_at", "runtime_done_at", "status", "error_type", "runtime_duration_ms",
        "produced_bytes", "response_at", "agent_flushed_at", "flush_reason", "released_at", "duration_ms",
        "billed_duration_ms", "memory_size_mb", "max_memory_used_mb", "init_duration_ms", "report_status",
        "transaction_id", "agent_events", "agent_bytes", "log_lines", "registration", "in_flight",
    ]
    static let invocationCounters: Set<String> = ["agent_events", "agent_bytes", "log_lines"]
    /// Whether `invocationColumns[i + 1]` is a counter.
    private static let isInvocationCounter = invocationColumns.dropFirst().map { invocationCounters.contains($0) }

    /// Upsert by request id of the columns in `shape` (bit i: `invocationColumns[i + 1]`): the stored values of
    /// the others stay, counters add up. Only the columns a fact carries are named: SQLite rewrites a row's entry
    /// in every index over a column the SET list names, so naming all 27 rewrote all seven `invocations` indexes on
    /// every fact, though most facts (report, flush, log counts) change no indexed column.
    static func upsertInvocation(shape: UInt32) -> String {
        let columns = invocationColumns.dropFirst().indices.filter { shape & (1 << ($0 - 1)) != 0 }.map { invocationColumns[$0] }
        let updates = columns.map { column in
            invocationCounters.contains(column) ? "\(column) = \(column) + excluded.\(column)" : "\(column) = excluded.\(column)"
        } + ["rev = excluded.rev"]
        return """
            INSERT INTO invocations (\((["request_id"] + columns + ["rev"]).joined(separator: ", ")))
            VALUES (\((1...columns.count + 2).map { "?\($0)" }.joined(separator: ", ")))
            ON CONFLICT (request_id) DO UPDATE SET \(updates.joined(separator: ", "))
            """
    }

    /// The shape of `fact` for `upsertInvocation(shape:)` (its non-nil columns, counters when non-zero) and the
    /// values to bind: request id, those columns in order, the revision.
    static func invocationUpsert(_ fact: InvocationFact, rev: Int64) -> (shape: UInt32, bindings: [SQLValue]) {
        let values: [SQLValue] = [
            .init(fact.environmentID), .init(fact.functionARN), .init(fact.invokedAt), .init(fact.deadlineAt),
            .init(fact.timeoutMs), .init(fact.traceID), .init(fact.coldStart), .init(fact.startedAt),
            .init(fact.runtimeDoneAt), .init(fact.status), .init(fact.errorType), .init(fact.runtimeDurationMs),
            .init(fact.producedBytes), .init(fact.responseAt), .init(fact.agentFlushedAt), .init(fact.flushReason),
            .init(fact.releasedAt), .init(fact.durationMs), .init(fact.billedDurationMs), .init(fact.memorySizeMB),
            .init(fact.maxMemoryUsedMB), .init(fact.initDurationMs), .init(fact.reportStatus), .init(fact.transactionID),
            .integer(Int64(fact.agentEvents)), .integer(Int64(fact.agentBytes)), .integer(Int64(fact.logLines)),
            .init(fact.registration), .init(fact.inFlight),
        ]
        var shape: UInt32 = 0
        var bindings: [SQLValue] = [.text(fact.requestID)]
        bindings.reserveCapacity(values.count + 2)
        for (index, value) in values.enumerated() where value != (isInvocationCounter[index] ? .integer(0) : .null) {
            shape |= 1 << index
            bindings.append(value)
        }
        bindings.append(.integer(rev))
        return (shape, bindings)
    }

    /// One proxy per request id: a second record is ignored, except that it may fill in a missing `forwarded_at`.
    static let insertProxy = """
        INSERT INTO proxy_transactions (request_id, environment_id, transaction_id, trace_id, result, outcome,
            duration_ms, trigger, created_at, forwarded_at, rev)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
        ON CONFLICT (request_id) DO UPDATE SET forwarded_at = excluded.forwarded_at, rev = excluded.rev
        WHERE proxy_transactions.forwarded_at IS NULL AND excluded.forwarded_at IS NOT NULL
        """

    static let insertShutdown = """
        INSERT INTO shutdowns (environment_id, received_at, reason, deadline_at, pending_invocations, proxies_created,
            flush_outcome, flush_duration_ms, exited_at, rev)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """

    static let insertFlush = """
        INSERT INTO flushes (environment_id, request_id, started_at, trigger, events, bytes, http_status, outcome,
            duration_ms, attempt, error, rev)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
        """

    static let insertLog = """
        INSERT INTO log_records (environment_id, request_id, at, source, level, message, rev)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        """

    static let insertLifecycle = """
        INSERT INTO lifecycle_events (environment_id, at, kind, name, detail, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
        """

    static let trimLogs = "DELETE FROM log_records WHERE id <= (SELECT max(id) FROM log_records) - ?1"

    static let maxRevision = """
        SELECT max(
            (SELECT coalesce(max(rev), 0) FROM environments), (SELECT coalesce(max(rev), 0) FROM invocations),
            (SELECT coalesce(max(rev), 0) FROM proxy_transactions), (SELECT coalesce(max(rev), 0) FROM shutdowns),
            (SELECT coalesce(max(rev), 0) FROM flushes), (SELECT coalesce(max(rev), 0) FROM log_records),
            (SELECT coalesce(max(rev), 0) FROM lifecycle_events))
        """

    /// The statement and bindings that write `record` stamped with `rev`.
    static func sql(for record: StoreRecord, rev: Int64) -> (String, [SQLValue]) {
        let revision = SQLValue.integer(rev)
        switch record {
        case .environment(let fact):
            return (upsertEnvironment, [
                .text(fact.id), .init(fact.functionName), .init(fact.functionVersion), .init(fact.memoryMB),
                .init(fact.region), .init(fact.runtime), .init(fact.logStream), .init(fact.source),
                .init(fact.extensionName), .init(fact.extensionVersion), .init(fact.startedAt), .init(fact.registeredAt),
                .init(fact.readyAt), .init(fact.initDurationMs), .init(fact.telemetry), .init(fact.telemetryDetail),
                .init(fact.shutdownAt), .init(fact.shutdownReason), .init(fact.initializationType),
                .init(fact.maxConcurrency), revision,
            ])
        case .invocation(let fact):
            let upsert = invocationUpsert(fact, rev: rev)
            return (upsertInvocation(shape: upsert.shape), upsert.bindings)
        case .proxy(let proxy):
            return (insertProxy, [
                .text(proxy.requestID), .init(proxy.environmentID), .text(proxy.transactionID), .init(proxy.traceID),
                .init(proxy.result), .init(proxy.outcome), .init(proxy.durationMs), .text(proxy.trigger.rawValue),
                .integer(proxy.createdAt), .init(proxy.forwardedAt), revision,
            ])
        case .shutdown(let shutdown):
            return (insertShutdown, [
                .init(shutdown.environmentID), .integer(shutdown.receivedAt), .text(shutdown.reason),
                .init(shutdown.deadlineAt), .integer(Int64(shutdown.pendingInvocations)),
                .integer(Int64(shutdown.proxiesCreated)), .init(shutdown.flushOutcome), .init(shutdown.flushDurationMs),
                .init(shutdown.exitedAt), revision,
            ])
        case .flush(let flush):
            return (insertFlush, [
                .init(flush.environmentID), .init(flush.requestID), .integer(flush.startedAt),
                .text(flush.trigger.rawValue), .integer(Int64(flush.events)), .integer(Int64(flush.bytes)),
                .init(flush.httpStatus), .text(flush.outcome.rawValue), .init(flush.durationMs),
                .integer(Int64(flush.attempt)), .init(flush.error), revision,
            ])
        case .log(let log):
            return (insertLog, [
                .init(log.environmentID), .init(log.requestID), .integer(log.at), .text(log.source.rawValue),
                .init(log.level), .text(log.message), revision,
            ])
        case .lifecycle(let event):
            return (insertLifecycle, [
                .init(event.environmentID), .integer(event.at), .text(event.kind), .init(event.name), .init(event.detail),
                revision,
            ])
        }
    }
}
