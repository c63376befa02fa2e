/// Typed decoding of the current row of a statement that selected `HistoryTable.columns`.
enum RowDecoding {
    static func environment(_ s: Statement) -> EnvironmentRow {
        var fact = EnvironmentFact(id: s.string(0) ?? "")
        fact.functionName = s.string(1)
        fact.functionVersion = s.string(2)
        fact.memoryMB = s.int(3)
        fact.region = s.string(4)
        fact.runtime = s.string(5)
        fact.logStream = s.string(6)
        fact.source = s.string(7).flatMap(EnvironmentSource.init(rawValue:))
        fact.extensionName = s.string(8)
        fact.extensionVersion = s.string(9)
        fact.startedAt = s.int64(10)
        fact.registeredAt = s.int64(11)
        fact.readyAt = s.int64(12)
        fact.initDurationMs = s.double(13)
        fact.telemetry = s.string(14).flatMap(TelemetryState.init(rawValue:))
        fact.telemetryDetail = s.string(15)
        fact.shutdownAt = s.int64(16)
        fact.shutdownReason = s.string(17)
        fact.initializationType = s.string(18)
        fact.maxConcurrency = s.int(19)
        return EnvironmentRow(rev: s.int64(20) ?? 0, record: fact)
    }

    static func invocation(_ s: Statement) -> InvocationRow {
        var fact = InvocationFact(requestID: s.string(0) ?? "")
        fact.environmentID = s.string(1)
        fact.functionARN = s.string(2)
        fact.invokedAt = s.int64(3)
        fact.deadlineAt = s.int64(4)
        fact.timeoutMs = s.int(5)
        fact.traceID = s.string(6)
        fact.coldStart = s.bool(7)
        fact.startedAt = s.int64(8)
        fact.runtimeDoneAt = s.int64(9)
        fact.status = s.string(10).flatMap(InvocationStatus.init(rawValue:))
        fact.errorType = s.string(11)
        fact.runtimeDurationMs = s.double(12)
        fact.producedBytes = s.int(13)
        fact.responseAt = s.int64(14)
        fact.agentFlushedAt = s.int64(15)
        fact.flushReason = s.string(16).flatMap(FlushReason.init(rawValue:))
        fact.releasedAt = s.int64(17)
        fact.durationMs = s.double(18)
        fact.billedDurationMs = s.int(19)
        fact.memorySizeMB = s.int(20)
        fact.maxMemoryUsedMB = s.int(21)
        fact.initDurationMs = s.double(22)
        fact.reportStatus = s.string(23)
        fact.transactionID = s.string(24)
        fact.agentEvents = s.int(25) ?? 0
        fact.agentBytes = s.int(26) ?? 0
        fact.logLines = s.int(27) ?? 0
        fact.inFlight = s.int(28)
        return InvocationRow(rev: s.int64(29) ?? 0, record: fact)
    }

    static func proxy(_ s: Statement) -> ProxyRow {
        let record = ProxyTransactionRecord(
            requestID: s.string(0) ?? "", environmentID: s.string(1), transactionID: s.string(2) ?? "",
            traceID: s.string(3), result: s.string(4), outcome: s.string(5), durationMs: s.double(6),
            trigger: s.string(7).flatMap(ProxyTrigger.init(rawValue:)) ?? .shutdown, createdAt: s.int64(8) ?? 0,
            forwardedAt: s.int64(9))
        return ProxyRow(rev: s.int64(10) ?? 0, record: record)
    }

    static func shutdown(_ s: Statement) -> ShutdownRow {
        let record = ShutdownRecord(
            environmentID: s.string(1), receivedAt: s.int64(2) ?? 0, reason: s.string(3) ?? "", deadlineAt: s.int64(4),
            pendingInvocations: s.int(5) ?? 0, proxiesCreated: s.int(6) ?? 0, flushOutcome: s.string(7),
            flushDurationMs: s.double(8), exitedAt: s.int64(9))
        return ShutdownRow(id: s.int64(0), rev: s.int64(10) ?? 0, record: record)
    }

    static func flush(_ s: Statement) -> FlushRow {
        let record = FlushRecord(
            environmentID: s.string(1), requestID: s.string(2), startedAt: s.int64(3) ?? 0,
            trigger: s.string(4).flatMap(FlushTrigger.init(rawValue:)) ?? .background, events: s.int(5) ?? 0,
            bytes: s.int(6) ?? 0, httpStatus: s.int(7), outcome: s.string(8).flatMap(FlushOutcome.init(rawValue:)) ?? .failed,
            durationMs: s.double(9), attempt: s.int(10) ?? 1, error: s.string(11))
        return FlushRow(id: s.int64(0), rev: s.int64(12) ?? 0, record: record)
    }

    static func log(_ s: Statement) -> LogRow {
        let record = LogRecord(
            environmentID: s.string(1), requestID: s.string(2), at: s.int64(3) ?? 0,
            source: s.string(4).flatMap(LogSource.init(rawValue:)) ?? .function, level: s.string(5),
            message: s.string(6) ?? "")
        return LogRow(id: s.int64(0), rev: s.int64(7) ?? 0, record: record)
    }

    static func lifecycle(_ s: Statement) -> LifecycleRow {
        let record = LifecycleEvent(
            environmentID: s.string(1), at: s.int64(2) ?? 0, kind: s.string(3) ?? "", name: s.string(4),
            detail: s.string(5))
        return LifecycleRow(id: s.int64(0), rev: s.int64(6) ?? 0, record: record)
    }
}
