// What the collector knows about one finished invocation, gathered by the book that ran it, for the fleet view:
// forwarded to the APM Server as one `lantern.lifecycle` log event (docs/forwarding.md, "Lifecycle facts"), so a
// fleet of short-lived environments can be queried in Elasticsearch and brought back with `lantern import`.

import LanternStore

/// The lifecycle facts of one invocation, as the book knows them when the event is built.
public struct InvocationFacts: Sendable, Equatable {
    public var requestID: String
    /// INVOKE received (classic) or `platform.start` (Managed Instances), epoch µs: the event's `@timestamp`.
    public var invokedAt: Int64
    public var functionARN: String?
    public var coldStart: Bool?
    /// runtimeDone status (else the report's); nil when neither came.
    public var status: String?
    public var errorType: String?
    /// What released the invocation; `report` on Managed Instances.
    public var flushReason: FlushReason?
    /// The handler's time: runtimeDone's `durationMs` (classic), the report's `durationMs` (Managed Instances).
    public var handlerMs: Double?
    /// runtimeDone → release: what the extension added to the invocation (classic only). Negative when the release
    /// came first (the agent's flush or the deadline ended it before the runtime was done), as in the store.
    public var postRuntimeMs: Double?
    /// INVOKE → release (classic), the report's `durationMs` (Managed Instances).
    public var totalMs: Double?
    /// From `platform.report` (nil when it never came).
    public var reportDurationMs: Double?
    public var billedDurationMs: Int?
    public var memorySizeMB: Int?
    public var maxMemoryUsedMB: Int?
    public var initDurationMs: Double?
    public var timeoutMs: Int?
    /// Invocations in flight when this one started, itself included (1 on classic Lambda).
    public var inFlight: Int?
    /// What made its proxy transaction, if one was made by the time the event was built.
    public var proxy: ProxyTrigger?
    /// The agent's registered (or proxied) transaction, so Kibana links the event to its trace.
    public var transactionID: String?
    public var traceID: String?

    public init(requestID: String, invokedAt: Int64) {
        self.requestID = requestID
        self.invokedAt = invokedAt
    }

    static func milliseconds(from start: Int64?, to end: Int64?, signed: Bool = false) -> Double? {
        guard let start, let end else { return nil }
        return Double(signed ? end - start : max(0, end - start)) / 1000
    }
}
