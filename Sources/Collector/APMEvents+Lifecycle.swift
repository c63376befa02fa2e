// Builders for the lifecycle events of the fleet view (LifecycleEventLines.swift): one line per invocation, one per
// SHUTDOWN. The label names are the contract with `lantern import` (Sources/lantern/FleetEvent.swift reads them).
// The lines are written straight into a `JSONWriter` (`LifecycleEventLine.write(into:)`): through the Codable
// encoder they cost about 5% of the extension's CPU. The `...Line` builders give the value itself, so the tests
// can hold the direct bytes to what `JSONLine.encode` writes for it.

import LanternStore
import NIOCore

extension APMEvents {
    /// One invocation's lifecycle facts as a `log` event.
    static func invocationLifecycle(_ facts: InvocationFacts, environment: LifecycleEnvironment) -> ByteBuffer {
        let line = invocationLifecycleLine(facts, environment: environment)
        return JSONLine.written(line.write(into:))
    }

    /// One SHUTDOWN as a `log` event; `@timestamp` is when it was received.
    static func shutdownLifecycle(_ shutdown: ShutdownRecord, environment: LifecycleEnvironment) -> ByteBuffer {
        let line = shutdownLifecycleLine(shutdown, environment: environment)
        return JSONLine.written(line.write(into:))
    }

    static func invocationLifecycleLine(_ facts: InvocationFacts, environment: LifecycleEnvironment) -> LifecycleEventLine {
        var labels = environmentLabels(environment, kind: LifecycleDataset.invocationKind)
        labels.strings += [
            ("lantern_status", facts.status),
            ("lantern_error_type", facts.errorType),
            ("lantern_flush_reason", facts.flushReason?.rawValue),
            ("lantern_proxy", facts.proxy?.rawValue),
        ]
        labels.numbers += [
            ("lantern_handler_ms", facts.handlerMs),
            ("lantern_post_runtime_ms", facts.postRuntimeMs),
            ("lantern_total_ms", facts.totalMs),
            ("lantern_duration_ms", facts.reportDurationMs),
            ("lantern_billed_duration_ms", facts.billedDurationMs.map(Double.init)),
            ("lantern_memory_mb", facts.memorySizeMB.map(Double.init)),
            ("lantern_max_memory_used_mb", facts.maxMemoryUsedMB.map(Double.init)),
            ("lantern_init_duration_ms", facts.initDurationMs),
            ("lantern_timeout_ms", facts.timeoutMs.map(Double.init)),
            ("lantern_in_flight", facts.inFlight.map(Double.init)),
        ]
        var message = "invocation \(facts.requestID): \(facts.status ?? "no status")"
        if let reason = facts.flushReason { message += ", ended by \(reason.rawValue)" }
        if let post = facts.postRuntimeMs { message += ", post-runtime \(post) ms" }
        if let proxy = facts.proxy { message += ", proxy (\(proxy.rawValue))" }
        let faas = FaaSFields(
            execution: facts.requestID, coldstart: facts.coldStart, id: facts.functionARN,
            name: environment.functionName, version: environment.functionVersion)
        let failed = facts.status.map { $0 != InvocationStatus.success.rawValue } ?? false
        return LifecycleEventLine(
            timestamp: facts.invokedAt, message: message, level: failed ? "error" : "info", faas: faas,
            labels: labels, transactionID: facts.transactionID, traceID: facts.traceID)
    }

    static func shutdownLifecycleLine(_ shutdown: ShutdownRecord, environment: LifecycleEnvironment) -> LifecycleEventLine {
        var labels = environmentLabels(environment, kind: LifecycleDataset.shutdownKind)
        labels.strings += [
            ("lantern_shutdown_reason", shutdown.reason),
            ("lantern_flush_outcome", shutdown.flushOutcome),
        ]
        labels.numbers += [
            ("lantern_pending_invocations", Double(shutdown.pendingInvocations)),
            ("lantern_proxies_created", Double(shutdown.proxiesCreated)),
            ("lantern_flush_duration_ms", shutdown.flushDurationMs),
            // Offsets from `@timestamp` (ms), not epochs: a numeric label is a scaled float in Elasticsearch.
            ("lantern_deadline_in_ms", shutdown.deadlineAt.map { Double($0 - shutdown.receivedAt) / 1000 }),
            ("lantern_exited_in_ms", shutdown.exitedAt.map { Double($0 - shutdown.receivedAt) / 1000 }),
        ]
        let message = "shutdown \(shutdown.reason): \(shutdown.pendingInvocations) pending, "
            + "\(shutdown.proxiesCreated) proxies, flush \(shutdown.flushOutcome ?? "none")"
        let faas = FaaSFields(name: environment.functionName, version: environment.functionVersion)
        return LifecycleEventLine(
            timestamp: shutdown.receivedAt, message: message, level: "info", faas: faas, labels: labels)
    }

    private static func environmentLabels(_ environment: LifecycleEnvironment, kind: String) -> LifecycleLabels {
        LifecycleLabels(
            strings: [
                ("lantern_kind", kind),
                ("lantern_environment", environment.environmentID),
                ("lantern_initialization_type", environment.initializationType),
            ],
            numbers: [("lantern_max_concurrency", environment.maxConcurrency.map(Double.init))])
    }
}
