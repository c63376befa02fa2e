// What the collector does between SHUTDOWN (or a signal) and its exit, on classic Lambda and Managed Instances
// alike: record it, wait briefly for late reports, make the proxies still owed, send everything, and leave
// `exitReserveMs` of the platform's budget for closing the store.

import LanternStore
import Logging
import NIOCore

/// The shutdown sequence, shared by `InvocationLoop` and `ConcurrentLoop`.
struct ShutdownSequence: Sendable {
    /// Time kept back from the SHUTDOWN deadline for closing the store and exiting.
    static let exitReserveMs: Int64 = 500
    /// Longest wait at SHUTDOWN for `platform.report`s still on their way.
    static let reportWait: Duration = .milliseconds(100)

    let book: any ShutdownBook
    let forwarder: (any EventForwarding)?
    let recorder: (any FactSink)?
    let environmentID: String
    /// Telemetry is delivered here, so reports may still come.
    let telemetry: Bool
    let logger: Logger

    func run(reason: String, deadlineMs: Int64, receivedAt: Int64) async {
        logger.info("shutting down", metadata: ["reason": "\(reason)"])
        var fact = EnvironmentFact(id: environmentID)
        fact.shutdownAt = receivedAt
        fact.shutdownReason = reason
        recorder?.record(.environment(fact))
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "terminating", name: reason,
            detail: "deadline \(deadlineMs) ms")))

        let sendDeadline = Self.nioDeadline(epochMs: deadlineMs - Self.exitReserveMs)
        if telemetry {
            let left = Duration.milliseconds(max(0, deadlineMs - Self.exitReserveMs - epochMicros() / 1000) / 4)
            await book.awaitReports(timeout: min(Self.reportWait, left))
        }
        let summary = await book.shutdown(reason: reason, at: receivedAt, deadlineMs: deadlineMs)
        let flushStart = epochMicros()
        var outcome: FlushOutcome?
        if let forwarder {
            outcome = await forwarder.flush(trigger: .shutdown, requestID: nil, deadline: sendDeadline)
            if outcome == .sent { await book.proxiesForwarded(at: epochMicros()) }
        }
        // The exit time is taken when the flush is over: the SHUTDOWN's own lifecycle event, which carries it, goes
        // out after it with the forwarder's last send (a small one: only that event, unless the flush failed).
        let exitedAt = epochMicros()
        let record = ShutdownRecord(
            environmentID: environmentID, receivedAt: receivedAt, reason: reason, deadlineAt: deadlineMs * 1000,
            pendingInvocations: summary.pendingInvocations, proxiesCreated: summary.proxiesCreated,
            flushOutcome: outcome?.rawValue ?? (forwarder == nil ? "no-server" : "empty"),
            flushDurationMs: Double(exitedAt - flushStart) / 1000, exitedAt: exitedAt)
        if let forwarder {
            await book.lifecycle?.forwardShutdownFacts(record)
            await forwarder.shutdown(deadline: sendDeadline)
        }
        recorder?.record(.shutdown(record))
    }

    /// An epoch-milliseconds deadline as a NIO (monotonic) deadline.
    static func nioDeadline(epochMs: Int64) -> NIODeadline {
        .now() + .microseconds(epochMs * 1000 - epochMicros())
    }
}
