// The collector's run loop on Lambda Managed Instances. The extension is registered for SHUTDOWN only, so `next`
// returns once, at the end; invocations open and close in the `ConcurrentBook` as telemetry arrives. Meanwhile
// a steady tick lets the forwarder send what is due and probe a failing APM Server: nothing freezes here and
// no invocation's end triggers a send.

import LambdaWire
import LanternStore
import Logging
import NIOCore

/// The Extensions API loop for Managed Instances, as a `CollectorService`.
public struct ConcurrentLoop: CollectorService {
    /// How often the forwarder is asked to send what is due (its batches also go by size and age on their own).
    static let tick: Duration = .milliseconds(250)

    let client: ExtensionsClient
    let identifier: String
    let book: ConcurrentBook
    let forwarder: Forwarder?
    let recorder: (any FactSink)?
    let environmentID: String
    let telemetry: Bool
    let logger: Logger

    public init(
        client: ExtensionsClient, identifier: String, book: ConcurrentBook, forwarder: Forwarder?,
        recorder: (any FactSink)?, environmentID: String, telemetry: Bool, logger: Logger
    ) {
        self.client = client
        self.identifier = identifier
        self.book = book
        self.forwarder = forwarder
        self.recorder = recorder
        self.environmentID = environmentID
        self.telemetry = telemetry
        self.logger = logger
    }

    public var name: String { "concurrent-loop" }

    public func run(until stop: StopRequest) async throws {
        let ticker = Task { [forwarder] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.tick)
                await forwarder?.tick()
            }
        }
        defer { ticker.cancel() }
        try await ExtensionEventLoop(
            client: client, identifier: identifier, recorder: recorder, environmentID: environmentID, logger: logger,
            name: name,
            shutdown: ShutdownSequence(book: book, forwarder: forwarder, recorder: recorder,
                                       environmentID: environmentID, telemetry: telemetry, logger: logger)
        ).run(until: stop) { try await self.awaitShutdown() }
    }

    /// Waits for SHUTDOWN. An INVOKE cannot come (the registration did not ask for it); one that does is skipped.
    func awaitShutdown() async throws -> ExtensionEventLoop.Exit {
        var fact = EnvironmentFact(id: environmentID)
        fact.readyAt = epochMicros()
        recorder?.record(.environment(fact))
        // The sandbox may freeze at this `next` until the first invocation (or for good): what start-up recorded
        // goes to the file now, not after the commit delay.
        recorder?.commitNow()
        while true {
            let event = try await client.next(identifier: identifier)
            switch event.eventType {
            case .shutdown:
                return .shutdownEvent(event, receivedAt: epochMicros())
            case .invoke:
                logger.warning("INVOKE on Managed Instances, where the extension registered for SHUTDOWN only; skipped")
            }
        }
    }
}
