// The collector's run loop on classic Lambda: `next` -> INVOKE -> wait for the end of the invocation ->
// (syncflush) send -> `next`, until SHUTDOWN or a signal; then the shutdown sequence inside the platform's budget.

import LambdaWire
import LanternStore
import Logging
import NIOCore

/// The Extensions API event loop, as a `CollectorService`.
public struct InvocationLoop: CollectorService {
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

    public var name: String { "invocation-loop" }

    public func run(until stop: StopRequest) async throws {
        try await ExtensionEventLoop(
            client: client, identifier: identifier, recorder: recorder, environmentID: environmentID, logger: logger,
            name: "invocation-loop", shutdown: shutdownSequence
        ).run(until: stop) { try await self.loop() }
    }

    var shutdownSequence: ShutdownSequence {
        ShutdownSequence(book: book, forwarder: forwarder, recorder: recorder, environmentID: environmentID,
                         telemetry: telemetry, logger: logger)
    }

    func loop() async throws -> ExtensionEventLoop.Exit {
        var fact = EnvironmentFact(id: environmentID)
        fact.readyAt = epochMicros()
        recorder?.record(.environment(fact))
        // The sandbox may freeze at this `next` until the first invocation (or for good): what start-up recorded
        // goes to the file now, not after the commit delay.
        recorder?.commitNow()
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
        let deadline = ShutdownSequence.nioDeadline(epochMs: event.deadlineMs)
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
        // reach the file only at the thaw. A nudge (no wait) lets the writer commit while `next` goes out; the
        // Recorder ignores it when it committed within the last 250 ms (Options.minimumCommitIntervalMs).
        recorder?.commitSoon()
        logger.debug("invocation released", metadata: ["request": "\(requestID)", "reason": "\(end.reason.rawValue)"])
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
