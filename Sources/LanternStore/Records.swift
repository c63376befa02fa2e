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
///
/// Copy-on-write: a fact is ~30 fields (~500 bytes, a dozen references) and passes by value from the book through
/// the record queue to the writer's merge, each copy retaining every field; shared storage makes a copy one
/// retain, and a write copies the storage only while another value still holds it.
public struct InvocationFact: Sendable, Equatable {
    fileprivate var storage: Storage

    public init(requestID: String) { storage = Storage(Fields(requestID: requestID)) }

    public var requestID: String {
        get { storage.fields.requestID }
        set { unique().fields.requestID = newValue }
    }
    public var environmentID: String? {
        get { storage.fields.environmentID }
        set { unique().fields.environmentID = newValue }
    }
    public var functionARN: String? {
        get { storage.fields.functionARN }
        set { unique().fields.functionARN = newValue }
    }
    public var invokedAt: Int64? {
        get { storage.fields.invokedAt }
        set { unique().fields.invokedAt = newValue }
    }
    public var deadlineAt: Int64? {
        get { storage.fields.deadlineAt }
        set { unique().fields.deadlineAt = newValue }
    }
    public var timeoutMs: Int? {
        get { storage.fields.timeoutMs }
        set { unique().fields.timeoutMs = newValue }
    }
    public var traceID: String? {
        get { storage.fields.traceID }
        set { unique().fields.traceID = newValue }
    }
    public var coldStart: Bool? {
        get { storage.fields.coldStart }
        set { unique().fields.coldStart = newValue }
    }
    public var startedAt: Int64? {
        get { storage.fields.startedAt }
        set { unique().fields.startedAt = newValue }
    }
    public var runtimeDoneAt: Int64? {
        get { storage.fields.runtimeDoneAt }
        set { unique().fields.runtimeDoneAt = newValue }
    }
    public var status: InvocationStatus? {
        get { storage.fields.status }
        set { unique().fields.status = newValue }
    }
    public var errorType: String? {
        get { storage.fields.errorType }
        set { unique().fields.errorType = newValue }
    }
    public var runtimeDurationMs: Double? {
        get { storage.fields.runtimeDurationMs }
        set { unique().fields.runtimeDurationMs = newValue }
    }
    public var producedBytes: Int? {
        get { storage.fields.producedBytes }
        set { unique().fields.producedBytes = newValue }
    }
    public var responseAt: Int64? {
        get { storage.fields.responseAt }
        set { unique().fields.responseAt = newValue }
    }
    public var agentFlushedAt: Int64? {
        get { storage.fields.agentFlushedAt }
        set { unique().fields.agentFlushedAt = newValue }
    }
    public var flushReason: FlushReason? {
        get { storage.fields.flushReason }
        set { unique().fields.flushReason = newValue }
    }
    public var releasedAt: Int64? {
        get { storage.fields.releasedAt }
        set { unique().fields.releasedAt = newValue }
    }
    public var durationMs: Double? {
        get { storage.fields.durationMs }
        set { unique().fields.durationMs = newValue }
    }
    public var billedDurationMs: Int? {
        get { storage.fields.billedDurationMs }
        set { unique().fields.billedDurationMs = newValue }
    }
    public var memorySizeMB: Int? {
        get { storage.fields.memorySizeMB }
        set { unique().fields.memorySizeMB = newValue }
    }
    public var maxMemoryUsedMB: Int? {
        get { storage.fields.maxMemoryUsedMB }
        set { unique().fields.maxMemoryUsedMB = newValue }
    }
    public var initDurationMs: Double? {
        get { storage.fields.initDurationMs }
        set { unique().fields.initDurationMs = newValue }
    }
    public var reportStatus: String? {
        get { storage.fields.reportStatus }
        set { unique().fields.reportStatus = newValue }
    }
    public var transactionID: String? {
        get { storage.fields.transactionID }
        set { unique().fields.transactionID = newValue }
    }
    /// Added to the stored count.
    public var agentEvents: Int {
        get { storage.fields.agentEvents }
        set { unique().fields.agentEvents = newValue }
    }
    /// Added to the stored count.
    public var agentBytes: Int {
        get { storage.fields.agentBytes }
        set { unique().fields.agentBytes = newValue }
    }
    /// Added to the stored count.
    public var logLines: Int {
        get { storage.fields.logLines }
        set { unique().fields.logLines = newValue }
    }
    /// The agent's partial transaction line, from which a later environment can make this invocation's proxy.
    public var registration: String? {
        get { storage.fields.registration }
        set { unique().fields.registration = newValue }
    }
    /// How many invocations were in flight when this one started, itself included (1 = it ran alone).
    public var inFlight: Int? {
        get { storage.fields.inFlight }
        set { unique().fields.inFlight = newValue }
    }

    /// The storage, copied first if another fact shares it.
    fileprivate mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        return storage
    }

    public static func == (lhs: InvocationFact, rhs: InvocationFact) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    // @unchecked Sendable: a Storage shared by two facts is never written (every setter goes through `unique()`,
    // which copies a shared one first), so the fields a thread reads cannot change under it.
    fileprivate final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    fileprivate struct Fields: Equatable {
        var requestID: String
        var environmentID: String?
        var functionARN: String?
        var invokedAt: Int64?
        var deadlineAt: Int64?
        var timeoutMs: Int?
        var traceID: String?
        var coldStart: Bool?
        var startedAt: Int64?
        var runtimeDoneAt: Int64?
        var status: InvocationStatus?
        var errorType: String?
        var runtimeDurationMs: Double?
        var producedBytes: Int?
        var responseAt: Int64?
        var agentFlushedAt: Int64?
        var flushReason: FlushReason?
        var releasedAt: Int64?
        var durationMs: Double?
        var billedDurationMs: Int?
        var memorySizeMB: Int?
        var maxMemoryUsedMB: Int?
        var initDurationMs: Double?
        var reportStatus: String?
        var transactionID: String?
        var agentEvents: Int = 0
        var agentBytes: Int = 0
        var logLines: Int = 0
        var registration: String?
        var inFlight: Int?
    }
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
        // Field by field on the storages: one uniqueness check instead of thirty.
        let target = unique()
        let from = later.storage
        target.fields.environmentID = from.fields.environmentID ?? target.fields.environmentID
        target.fields.functionARN = from.fields.functionARN ?? target.fields.functionARN
        target.fields.invokedAt = from.fields.invokedAt ?? target.fields.invokedAt
        target.fields.deadlineAt = from.fields.deadlineAt ?? target.fields.deadlineAt
        target.fields.timeoutMs = from.fields.timeoutMs ?? target.fields.timeoutMs
        target.fields.traceID = from.fields.traceID ?? target.fields.traceID
        target.fields.coldStart = from.fields.coldStart ?? target.fields.coldStart
        target.fields.startedAt = from.fields.startedAt ?? target.fields.startedAt
        target.fields.runtimeDoneAt = from.fields.runtimeDoneAt ?? target.fields.runtimeDoneAt
        target.fields.status = from.fields.status ?? target.fields.status
        target.fields.errorType = from.fields.errorType ?? target.fields.errorType
        target.fields.runtimeDurationMs = from.fields.runtimeDurationMs ?? target.fields.runtimeDurationMs
        target.fields.producedBytes = from.fields.producedBytes ?? target.fields.producedBytes
        target.fields.responseAt = from.fields.responseAt ?? target.fields.responseAt
        target.fields.agentFlushedAt = from.fields.agentFlushedAt ?? target.fields.agentFlushedAt
        target.fields.flushReason = from.fields.flushReason ?? target.fields.flushReason
        target.fields.releasedAt = from.fields.releasedAt ?? target.fields.releasedAt
        target.fields.durationMs = from.fields.durationMs ?? target.fields.durationMs
        target.fields.billedDurationMs = from.fields.billedDurationMs ?? target.fields.billedDurationMs
        target.fields.memorySizeMB = from.fields.memorySizeMB ?? target.fields.memorySizeMB
        target.fields.maxMemoryUsedMB = from.fields.maxMemoryUsedMB ?? target.fields.maxMemoryUsedMB
        target.fields.initDurationMs = from.fields.initDurationMs ?? target.fields.initDurationMs
        target.fields.reportStatus = from.fields.reportStatus ?? target.fields.reportStatus
        target.fields.transactionID = from.fields.transactionID ?? target.fields.transactionID
        target.fields.agentEvents += from.fields.agentEvents
        target.fields.agentBytes += from.fields.agentBytes
        target.fields.logLines += from.fields.logLines
        target.fields.registration = from.fields.registration ?? target.fields.registration
        target.fields.inFlight = from.fields.inFlight ?? target.fields.inFlight
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
