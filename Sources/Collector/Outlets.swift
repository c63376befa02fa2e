// The two things the Lambda side of the collector hands its results to: the store (through the
// Recorder) and the APM Server (through the Forwarder). Protocols keep InvocationBook and the run loop
// independent of how either is built, and let the collector run on when the store cannot be opened.

import NIOCore
import LanternStore

/// Takes facts for the store without blocking the caller (the LanternStore `Recorder` in production).
public protocol FactSink: Sendable {
    /// Takes `record`; false when it had to be dropped (and was counted).
    @discardableResult
    func record(_ record: StoreRecord) -> Bool
    /// Commit what was taken now rather than after the commit delay, without waiting for it (unless the sink
    /// committed very recently: see `Recorder.Options.minimumCommitIntervalMs`).
    func commitSoon()
    /// Commit what was taken now, however recently the sink committed, without waiting for it.
    func commitNow()
}

extension FactSink {
    public func commitSoon() {}
    public func commitNow() {}
}

/// What the Lambda side asks of the forwarder (the `Forwarder` actor in production).
public protocol EventForwarding: Sendable {
    /// Queue a proxy transaction for an invocation whose agent never reported.
    func forwardProxy(_ proxy: ProxyTransaction) async
    /// Queue the APM metricset made from a `platform.report`.
    func forwardReport(_ report: InvocationReport) async
    /// Queue one function log line as an APM `log` event.
    func forwardLog(_ line: FunctionLogLine) async
    /// Queue a delivery's function log lines, in order: one hop to the forwarder for all of them.
    func forwardLogs(_ lines: [FunctionLogLine]) async
    /// syncflush: an invocation began; an agent flush before its end may start the send, bounded by `bound`.
    func beginInvocation(bound: NIODeadline) async
    /// Send what is buffered (after any send the agent's flush started), bounded by `deadline`; nil when
    /// there was nothing to send.
    func flush(trigger: FlushTrigger, requestID: String?, deadline: NIODeadline) async -> FlushOutcome?
    /// Send what is left and stop, bounded by `deadline`.
    func shutdown(deadline: NIODeadline) async
    /// Queue one invocation's lifecycle facts (the fleet view), to ride with the next send.
    func forwardInvocationFacts(_ facts: InvocationFacts) async
    /// Queue the lifecycle facts of the SHUTDOWN, for the final send.
    func forwardShutdownFacts(_ shutdown: ShutdownRecord) async
}

extension EventForwarding {
    public func forwardLogs(_ lines: [FunctionLogLine]) async {
        for line in lines { await forwardLog(line) }
    }
    public func forwardInvocationFacts(_ facts: InvocationFacts) async {}
    public func forwardShutdownFacts(_ shutdown: ShutdownRecord) async {}
}

/// A proxy transaction the book decided to make: the agent's registered partial transaction, finished.
public struct ProxyTransaction: Sendable {
    public var registration: TransactionRegistration
    /// `transaction.result`: the runtimeDone status, `timeout`, or the SHUTDOWN reason.
    public var result: String
    /// `transaction.outcome`: `failure`, or nil to keep what the agent registered (success).
    public var outcome: String?
    public var durationMs: Double
    public var trigger: ProxyTrigger
}

/// A `platform.report` with what the book knows about its invocation (for the APM metricset).
public struct InvocationReport: Sendable {
    public var requestID: String
    /// The report's time (epoch microseconds).
    public var at: Int64
    public var functionARN: String?
    public var coldStart: Bool?
    /// The function timeout, as Elastic computes it (whole seconds, in ms).
    public var timeoutMs: Int?
    public var status: String
    public var durationMs: Double
    public var billedDurationMs: Int?
    public var memorySizeMB: Int?
    public var maxMemoryUsedMB: Int?
    public var initDurationMs: Double?
}

/// One line the function printed, attributed to the invocation that was running.
public struct FunctionLogLine: Sendable {
    public var at: Int64
    public var message: String
    /// Parsed when the line is JSON or has a Lambda level prefix.
    public var level: String?
    public var requestID: String?
    public var functionARN: String?
}
