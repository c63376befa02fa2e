// The collector's run loop: `next` -> INVOKE -> wait for the end of the invocation -> (syncflush) send
// -> `next`, until SHUTDOWN or a signal; then the shutdown sequence inside the platform's budget.

import LambdaWire
import LanternStore
import Logging
import NIOCore
import ServiceLifecycle

/// The Extensions API event loop, as a swift-service-lifecycle `Service`.
public struct InvocationLoop: Service, CustomStringConvertible {
    /// Time kept back from the SHUTDOWN deadline for closing the store and exiting.
    static let exitReserveMs: Int64 = 500
    /// Longest wait at SHUTDOWN for `platform.report`s still on their way.
    static let reportWait: Duration = .milliseconds(100)

    let client: ExtensionsClient
    let identifier: String
    let book: InvocationBook
    let forwarder: (any EventForwarding)?
    let recorder: (any FactSink)?
    let environmentID: String
    let sendStrategy: SendStrategy
    let forwarderTimeout: Duration
    /// Telemetry is delivered here, so reports may still come at SHUTDOWN.
    let telemetry: Bool
    let logger: Logger

    public init(
        client: ExtensionsClient, identifier: String, book: InvocationBook, forwarder: (any EventForwarding)?,
        recorder: (any FactSink)?, environmentID: String, sendStrategy: SendStrategy, forwarderTimeout: Duration,
        telemetry: Bool, logger: Logger
    ) {
        self.client = client
        self.identifier = identifier
        self.book = book
        self.forwarder = forwarder
        self.recorder = recorder
        self.environmentID = environmentID
        self.sendStrategy = sendStrategy
        self.forwarderTimeout = forwarderTimeout
        self.telemetry = telemetry
        self.logger = logger
    }

    /// ServiceGroup names each service by `"\(service)"`; without this the default description walks every
    /// stored property (logger, clients, book) through reflection, which cost ~2.7 ms of each cold start
    /// (`perf record` over `lantern-bench coldstart`: runtime protocol-conformance scans).
    public var description: String { "invocation-loop" }

    /// Why the loop stopped asking for events.
    enum Exit: Sendable {
        case shutdownEvent(ExtensionEvent, receivedAt: Int64)
        case signal
    }

    public func run() async throws {
        lifecycle("process_started", name: "invocation-loop")
        defer { lifecycle("process_ended", name: "invocation-loop") }
        let exit: Exit
        do {
            exit = try await cancelWhenGracefulShutdown { try await self.loop() }
        } catch {
            guard Task.isShuttingDownGracefully || error is CancellationError else {
                await fail(error)
                throw error
            }
            exit = .signal
        }
        switch exit {
        case .shutdownEvent(let event, let receivedAt):
            await shutdown(reason: event.shutdownReason?.rawValue ?? "unknown", deadlineMs: event.deadlineMs,
                           receivedAt: receivedAt)
        case .signal:
            let now = epochMicros()
            // A signal has no deadline of its own: take Lambda's 2,000 ms SHUTDOWN budget.
            await shutdown(reason: "signal", deadlineMs: now / 1000 + 2000, receivedAt: now)
        }
    }

    func loop() async throws -> Exit {
        var fact = EnvironmentFact(id: environmentID)
        fact.readyAt = epochMicros()
        recorder?.record(.environment(fact))
        while true {
            let event = try await client.next(identifier: identifier)
            let receivedAt = epochMicros()
            switch event.eventType {
            case .shutdown:
                return .shutdownEvent(event, receivedAt: receivedAt)
            case .invoke:
                await invocation(event, receivedAt: receivedAt)
            }
        }
    }

    /// One INVOKE: record it, wait for its end, send (syncflush), release.
    func invocation(_ event: ExtensionEvent, receivedAt: Int64) async {
        guard let requestID = event.requestId, !requestID.isEmpty else {
            logger.warning("INVOKE without a request id; skipped")
            return
        }
        await book.invoke(
            requestID: requestID, deadlineMs: event.deadlineMs, functionARN: event.invokedFunctionArn,
            xrayTraceID: event.tracing?.value, receivedAt: receivedAt)
        let deadline = Self.nioDeadline(epochMs: event.deadlineMs)
        if sendStrategy == .background, let forwarder {
            // Background: what the previous invocation left goes out while this one runs.
            Task { _ = await forwarder.flush(trigger: .background, requestID: nil, deadline: deadline) }
        }
        if sendStrategy == .syncflush, let forwarder {
            // Armed before the end: the agent's flush starts the send itself (see Forwarder.agentFlushed).
            await forwarder.beginInvocation(bound: deadline)
        }
        let end = await book.awaitEnd(of: requestID)
        var sent = false
        if sendStrategy == .syncflush, let forwarder, !Task.isCancelled {
            let bound = min(deadline, .now() + TimeAmount(forwarderTimeout))
            sent = await forwarder.flush(trigger: .invocation, requestID: requestID, deadline: bound) == .sent
        }
        // One hop to the book between the send and `next`: it is on every invocation's post-runtime path.
        await book.released(requestID: requestID, at: epochMicros(), proxiesForwarded: sent)
        // Lambda freezes the sandbox once every `next` is in; an invocation's facts still in the commit delay would
        // reach the file only at the thaw. A nudge (no wait) lets the writer commit while `next` goes out.
        recorder?.commitSoon()
        logger.debug("invocation released", metadata: ["request": "\(requestID)", "reason": "\(end.reason.rawValue)"])
    }

    /// SHUTDOWN (or a signal): record it, wait briefly for late reports, make the proxies, send
    /// everything, and leave `exitReserveMs` of the budget for closing the store.
    func shutdown(reason: String, deadlineMs: Int64, receivedAt: Int64) async {
        logger.info("shutting down", metadata: ["reason": "\(reason)"])
        var fact = EnvironmentFact(id: environmentID)
        fact.shutdownAt = receivedAt
        fact.shutdownReason = reason
        recorder?.record(.environment(fact))
        lifecycle("terminating", name: reason, detail: "deadline \(deadlineMs) ms")

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
            await forwarder.shutdown(deadline: sendDeadline)
        }
        let exitedAt = epochMicros()
        recorder?.record(.shutdown(ShutdownRecord(
            environmentID: environmentID, receivedAt: receivedAt, reason: reason, deadlineAt: deadlineMs * 1000,
            pendingInvocations: summary.pendingInvocations, proxiesCreated: summary.proxiesCreated,
            flushOutcome: outcome?.rawValue ?? (forwarder == nil ? "no-server" : "empty"),
            flushDurationMs: Double(exitedAt - flushStart) / 1000, exitedAt: exitedAt)))
    }

    /// `next` failed for a reason other than shutdown: tell Lambda (`exit/error`) and record it.
    func fail(_ error: any Error) async {
        logger.error("the Extensions API failed: \(error)")
        lifecycle("exit_error", name: "next", detail: "\(error)")
        try? await client.exitError(identifier: identifier, errorType: "Extension.NextFailed", message: "\(error)")
    }

    func lifecycle(_ kind: String, name: String? = nil, detail: String? = nil) {
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: kind, name: name, detail: detail)))
    }

    /// An epoch-milliseconds deadline as a NIO (monotonic) deadline.
    static func nioDeadline(epochMs: Int64) -> NIODeadline {
        .now() + .microseconds(epochMs * 1000 - epochMicros())
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
