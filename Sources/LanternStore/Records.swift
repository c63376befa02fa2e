// The records the collector hands to the Recorder. They are the Swift side of schema/001_init.sql:
// one case per table, field names are the column names in camelCase.
//
// Upsert rule for rows keyed by an id (environments, invocations): a nil field leaves the stored
// value as it is, a non-nil field overwrites it, and the counters (agentEvents, agentBytes,
// logLines) are added to the stored value. So facts can arrive in any order and from any source.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time as integer epoch microseconds (UTC), the store's unit of time.
public func epochMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
}

/// One thing worth writing to the store.
public enum StoreRecord: Sendable, Equatable {
    case environment(EnvironmentFact)
    case invocation(InvocationFact)
    case proxy(ProxyTransactionRecord)
    case shutdown(ShutdownRecord)
    case flush(FlushRecord)
    case log(LogRecord)
    case lifecycle(LifecycleEvent)
}

/// Where an execution environment ran.
public enum EnvironmentSource: String, Sendable, Codable, CaseIterable { case lambda, emulator }

/// Whether the Telemetry API subscription worked.
public enum TelemetryState: String, Sendable, Codable, CaseIterable { case subscribed, unavailable, failed }

/// How `platform.runtimeDone` (or the collector, on a deadline) ended an invocation.
public enum InvocationStatus: String, Sendable, Codable, CaseIterable { case success, error, failure, timeout }

/// What let the collector release an invocation.
/// On Managed Instances nothing is released: `report` says the invocation ended with its `platform.report`.
public enum FlushReason: String, Sendable, Codable, CaseIterable { case agent, runtimeDone, timeout, shutdown, report }

/// What made the collector create a proxy transaction.
public enum ProxyTrigger: String, Sendable, Codable, CaseIterable { case runtimeDone, shutdown, timeout, report }

/// What made the forwarder send (or drop) a batch.
public enum FlushTrigger: String, Sendable, Codable, CaseIterable {
    case invocation, size, age, retry, shutdown, intake, background
}

/// What became of a batch.
public enum FlushOutcome: String, Sendable, Codable, CaseIterable { case sent, failed, dropped, deferred }

/// Who printed a log line.
public enum LogSource: String, Sendable, Codable, CaseIterable { case function, `extension`, platform }

/// A fact about an execution environment (upserted by `id`).
public struct EnvironmentFact: Sendable, Equatable {
    public var id: String
    public var functionName: String?
    public var functionVersion: String?
    public var memoryMB: Int?
    public var region: String?
    public var runtime: String?
    public var logStream: String?
    public var source: EnvironmentSource?
    public var extensionName: String?
    public var extensionVersion: String?
    public var startedAt: Int64?
    public var registeredAt: Int64?
    public var readyAt: Int64?
    public var initDurationMs: Double?
    public var telemetry: TelemetryState?
    public var telemetryDetail: String?
    public var shutdownAt: Int64?
    public var shutdownReason: String?
    /// `platform.initStart`'s `initializationType` (`lambda-managed-instances` on Managed Instances).
    public var initializationType: String?
    /// Managed Instances: how many invocations the environment may run at once.
    public var maxConcurrency: Int?

    public init(id: String) { self.id = id }
}

/// A fact about one invocation (upserted by `requestID`; counters add up).
public struct InvocationFact: Sendable, Equatable {
    public var requestID: String
    public var environmentID: String?
    public var functionARN: String?
    public var invokedAt: Int64?
    public var deadlineAt: Int64?
    public var timeoutMs: Int?
    public var traceID: String?
    public var coldStart: Bool?
    public var startedAt: Int64?
    public var runtimeDoneAt: Int64?
    public var status: InvocationStatus?
    public var errorType: String?
    public var runtimeDurationMs: Double?
    public var producedBytes: Int?
    public var responseAt: Int64?
    public var agentFlushedAt: Int64?
    public var flushReason: FlushReason?
    public var releasedAt: Int64?
    public var durationMs: Double?
    public var billedDurationMs: Int?
    public var memorySizeMB: Int?
    public var maxMemoryUsedMB: Int?
    public var initDurationMs: Double?
    public var reportStatus: String?
    public var transactionID: String?
    /// Added to the stored count.
    public var agentEvents: Int = 0
    /// Added to the stored count.
    public var agentBytes: Int = 0
    /// Added to the stored count.
    public var logLines: Int = 0
    /// The agent's partial transaction line, from which a later environment can make this invocation's proxy.
    public var registration: String?
    /// How many invocations were in flight when this one started, itself included (1 = it ran alone).
    public var inFlight: Int?

    public init(requestID: String) { self.requestID = requestID }
}

/// A proxy transaction made for an invocation whose agent never reported (one per request id).
public struct ProxyTransactionRecord: Sendable, Equatable {
    public var requestID: String
    public var environmentID: String?
    public var transactionID: String
    public var traceID: String?
    public var result: String?
    public var outcome: String?
    public var durationMs: Double?
    public var trigger: ProxyTrigger
    public var createdAt: Int64
    public var forwardedAt: Int64?

    public init(
        requestID: String, environmentID: String? = nil, transactionID: String, traceID: String? = nil,
        result: String? = nil, outcome: String? = nil, durationMs: Double? = nil, trigger: ProxyTrigger,
        createdAt: Int64, forwardedAt: Int64? = nil
    ) {
        self.requestID = requestID
        self.environmentID = environmentID
        self.transactionID = transactionID
        self.traceID = traceID
        self.result = result
        self.outcome = outcome
        self.durationMs = durationMs
        self.trigger = trigger
        self.createdAt = createdAt
        self.forwardedAt = forwardedAt
    }
}

/// One SHUTDOWN event and how the collector handled it.
public struct ShutdownRecord: Sendable, Equatable {
    public var environmentID: String?
    public var receivedAt: Int64
    public var reason: String
    public var deadlineAt: Int64?
    public var pendingInvocations: Int
    public var proxiesCreated: Int
    public var flushOutcome: String?
    public var flushDurationMs: Double?
    public var exitedAt: Int64?

    public init(
        environmentID: String? = nil, receivedAt: Int64, reason: String, deadlineAt: Int64? = nil,
        pendingInvocations: Int = 0, proxiesCreated: Int = 0, flushOutcome: String? = nil,
        flushDurationMs: Double? = nil, exitedAt: Int64? = nil
    ) {
        self.environmentID = environmentID
        self.receivedAt = receivedAt
        self.reason = reason
        self.deadlineAt = deadlineAt
        self.pendingInvocations = pendingInvocations
        self.proxiesCreated = proxiesCreated
        self.flushOutcome = flushOutcome
        self.flushDurationMs = flushDurationMs
        self.exitedAt = exitedAt
    }
}

/// One send to the APM Server, or one batch dropped.
public struct FlushRecord: Sendable, Equatable {
    public var environmentID: String?
    public var requestID: String?
    public var startedAt: Int64
    public var trigger: FlushTrigger
    public var events: Int
    public var bytes: Int
    public var httpStatus: Int?
    public var outcome: FlushOutcome
    public var durationMs: Double?
    public var attempt: Int
    public var error: String?

    public init(
        environmentID: String? = nil, requestID: String? = nil, startedAt: Int64, trigger: FlushTrigger,
        events: Int, bytes: Int, httpStatus: Int? = nil, outcome: FlushOutcome, durationMs: Double? = nil,
        attempt: Int = 1, error: String? = nil
    ) {
        self.environmentID = environmentID
        self.requestID = requestID
        self.startedAt = startedAt
        self.trigger = trigger
        self.events = events
        self.bytes = bytes
        self.httpStatus = httpStatus
        self.outcome = outcome
        self.durationMs = durationMs
        self.attempt = attempt
        self.error = error
    }
}

/// One log line.
public struct LogRecord: Sendable, Equatable {
    public var environmentID: String?
    public var requestID: String?
    public var at: Int64
    public var source: LogSource
    public var level: String?
    public var message: String

    public init(
        environmentID: String? = nil, requestID: String? = nil, at: Int64, source: LogSource,
        level: String? = nil, message: String
    ) {
        self.environmentID = environmentID
        self.requestID = requestID
        self.at = at
        self.source = source
        self.level = level
        self.message = message
    }
}

/// One event in the collector's own life (`kind`: startup, hook, process_started, process_ended,
/// registered, subscribed, subscription_failed, terminating, terminated, records_dropped, store_error...).
public struct LifecycleEvent: Sendable, Equatable {
    public var environmentID: String?
    public var at: Int64
    public var kind: String
    public var name: String?
    public var detail: String?

    public init(environmentID: String? = nil, at: Int64, kind: String, name: String? = nil, detail: String? = nil) {
        self.environmentID = environmentID
        self.at = at
        self.kind = kind
        self.name = name
        self.detail = detail
    }
}

extension InvocationFact {
    /// Folds a later fact for the same request into this one, as the store's upsert would: a later non-nil
    /// value wins, nil keeps, counters add.
    mutating func absorb(_ later: InvocationFact) {
        environmentID = later.environmentID ?? environmentID
        functionARN = later.functionARN ?? functionARN
        invokedAt = later.invokedAt ?? invokedAt
        deadlineAt = later.deadlineAt ?? deadlineAt
        timeoutMs = later.timeoutMs ?? timeoutMs
        traceID = later.traceID ?? traceID
        coldStart = later.coldStart ?? coldStart
        startedAt = later.startedAt ?? startedAt
        runtimeDoneAt = later.runtimeDoneAt ?? runtimeDoneAt
        status = later.status ?? status
        errorType = later.errorType ?? errorType
        runtimeDurationMs = later.runtimeDurationMs ?? runtimeDurationMs
        producedBytes = later.producedBytes ?? producedBytes
        responseAt = later.responseAt ?? responseAt
        agentFlushedAt = later.agentFlushedAt ?? agentFlushedAt
        flushReason = later.flushReason ?? flushReason
        releasedAt = later.releasedAt ?? releasedAt
        durationMs = later.durationMs ?? durationMs
        billedDurationMs = later.billedDurationMs ?? billedDurationMs
        memorySizeMB = later.memorySizeMB ?? memorySizeMB
        maxMemoryUsedMB = later.maxMemoryUsedMB ?? maxMemoryUsedMB
        initDurationMs = later.initDurationMs ?? initDurationMs
        reportStatus = later.reportStatus ?? reportStatus
        transactionID = later.transactionID ?? transactionID
        agentEvents += later.agentEvents
        agentBytes += later.agentBytes
        logLines += later.logLines
        registration = later.registration ?? registration
        inFlight = later.inFlight ?? inFlight
    }
}

extension StoreRecord {
    /// The schema's CHECK rules that the Swift types do not already guarantee, for the writer's connection, which
    /// skips SQLite's own (`Recorder.open`): nil when the record may be written. Every other checked column is an
    /// enum here (status, flush reason, triggers, sources, outcomes of flushes, telemetry state) or a Bool.
    var checkViolation: String? {
        guard case .proxy(let proxy) = self, let outcome = proxy.outcome else { return nil }
        switch outcome {
        case "success", "failure", "unknown": return nil
        default: return "CHECK constraint failed: proxy_transactions.outcome \(outcome.debugDescription) is not success, failure or unknown"
        }
    }
}
