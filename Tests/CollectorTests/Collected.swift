// In-memory ends of the book's two outlets, for the pure-logic tests of InvocationBook and the run loop.
// (End-to-end tests use the real Recorder, Forwarder and processes.)

import Collector
import LanternStore
import NIOCore
import Synchronization

/// Collects every fact handed to it.
final class CollectedFacts: FactSink {
    private let records = Mutex<[StoreRecord]>([])

    @discardableResult
    func record(_ record: StoreRecord) -> Bool {
        records.withLock { $0.append(record) }
        return true
    }

    var all: [StoreRecord] { records.withLock { $0 } }

    var invocationFacts: [InvocationFact] {
        all.compactMap { if case .invocation(let f) = $0 { f } else { nil } }
    }

    func invocationFacts(_ requestID: String) -> [InvocationFact] {
        invocationFacts.filter { $0.requestID == requestID }
    }

    var proxies: [ProxyTransactionRecord] {
        all.compactMap { if case .proxy(let p) = $0 { p } else { nil } }
    }

    var lifecycle: [LifecycleEvent] {
        all.compactMap { if case .lifecycle(let e) = $0 { e } else { nil } }
    }

    var logs: [LogRecord] {
        all.compactMap { if case .log(let l) = $0 { l } else { nil } }
    }

    /// The merged view of one invocation, as the store's upsert rule would build it.
    func merged(_ requestID: String) -> InvocationFact {
        var row = InvocationFact(requestID: requestID)
        for fact in invocationFacts(requestID) {
            row.invokedAt = fact.invokedAt ?? row.invokedAt
            row.deadlineAt = fact.deadlineAt ?? row.deadlineAt
            row.timeoutMs = fact.timeoutMs ?? row.timeoutMs
            row.traceID = fact.traceID ?? row.traceID
            row.coldStart = fact.coldStart ?? row.coldStart
            row.startedAt = fact.startedAt ?? row.startedAt
            row.runtimeDoneAt = fact.runtimeDoneAt ?? row.runtimeDoneAt
            row.status = fact.status ?? row.status
            row.errorType = fact.errorType ?? row.errorType
            row.agentFlushedAt = fact.agentFlushedAt ?? row.agentFlushedAt
            row.flushReason = fact.flushReason ?? row.flushReason
            row.releasedAt = fact.releasedAt ?? row.releasedAt
            row.durationMs = fact.durationMs ?? row.durationMs
            row.billedDurationMs = fact.billedDurationMs ?? row.billedDurationMs
            row.maxMemoryUsedMB = fact.maxMemoryUsedMB ?? row.maxMemoryUsedMB
            row.transactionID = fact.transactionID ?? row.transactionID
            row.inFlight = fact.inFlight ?? row.inFlight
            row.responseAt = fact.responseAt ?? row.responseAt
            row.functionARN = fact.functionARN ?? row.functionARN
            row.agentEvents += fact.agentEvents
            row.agentBytes += fact.agentBytes
            row.logLines += fact.logLines
        }
        return row
    }
}

/// Collects what the book asks the forwarder to send (stand-in for the Forwarder in unit tests only).
actor CollectedForwarding: EventForwarding {
    private(set) var proxies: [ProxyTransaction] = []
    private(set) var reports: [InvocationReport] = []
    private(set) var logs: [FunctionLogLine] = []
    private(set) var flushes: [(FlushTrigger, String?)] = []
    private(set) var shutdowns = 0
    private(set) var invocationsBegun = 0
    private(set) var invocationFacts: [InvocationFacts] = []
    private(set) var shutdownFacts: [ShutdownRecord] = []

    func forwardInvocationFacts(_ facts: InvocationFacts) { invocationFacts.append(facts) }
    func forwardShutdownFacts(_ shutdown: ShutdownRecord) { shutdownFacts.append(shutdown) }
    func beginInvocation(bound: NIODeadline) { invocationsBegun += 1 }
    func forwardProxy(_ proxy: ProxyTransaction) { proxies.append(proxy) }
    func forwardReport(_ report: InvocationReport) { reports.append(report) }
    func forwardLog(_ line: FunctionLogLine) { logs.append(line) }
    func flush(trigger: FlushTrigger, requestID: String?, deadline: NIODeadline) -> FlushOutcome? {
        flushes.append((trigger, requestID))
        return .sent
    }
    func shutdown(deadline: NIODeadline) { shutdowns += 1 }
}
