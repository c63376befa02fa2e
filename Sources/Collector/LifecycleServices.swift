// The collector's long-lived parts as `CollectorService`s, each recording its own start
// and end in `lifecycle_events` so the store tells the collector's life as well as the function's.

import LambdaWire
import LanternStore

/// A started listener (agent receiver, telemetry listener) that runs until graceful shutdown, then stops.
public struct ListenerService: CollectorService {
    public let name: String
    let recorder: (any FactSink)?
    let environmentID: String
    let close: @Sendable () async -> Void

    public init(name: String, recorder: (any FactSink)?, environmentID: String, close: @escaping @Sendable () async -> Void) {
        self.name = name
        self.recorder = recorder
        self.environmentID = environmentID
        self.close = close
    }

    public func run(until stop: StopRequest) async throws {
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_started", name: name)))
        // Cancellation ends the wait too; either way the listener closes.
        await stop.wait()
        await close()
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_ended", name: name)))
    }
}

/// The telemetry listener plus the router that applies its deliveries, as one service.
public struct TelemetryService: CollectorService {
    let listener: TelemetryListener
    let router: TelemetryRouter
    let recorder: (any FactSink)?
    let environmentID: String

    public init(listener: TelemetryListener, router: TelemetryRouter, recorder: (any FactSink)?, environmentID: String) {
        self.listener = listener
        self.router = router
        self.recorder = recorder
        self.environmentID = environmentID
    }

    public var name: String { "telemetry-listener" }

    public func run(until stop: StopRequest) async throws {
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_started", name: name)))
        let routing = Task { await router.run(listener.events) }
        await stop.wait()
        await listener.stop()
        await routing.value
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_ended", name: name)))
    }
}
