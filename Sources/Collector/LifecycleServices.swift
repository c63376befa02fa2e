// The collector's long-lived parts as swift-service-lifecycle services, each recording its own start
// and end in `lifecycle_events` so the store tells the collector's life as well as the function's.

import LambdaWire
import LanternStore
import ServiceLifecycle

/// A started listener (agent receiver, telemetry listener) that runs until graceful shutdown, then stops.
public struct ListenerService: Service, CustomStringConvertible {
    let name: String
    let recorder: (any FactSink)?
    let environmentID: String
    let stop: @Sendable () async -> Void

    public init(name: String, recorder: (any FactSink)?, environmentID: String, stop: @escaping @Sendable () async -> Void) {
        self.name = name
        self.recorder = recorder
        self.environmentID = environmentID
        self.stop = stop
    }

    public var description: String { name }

    public func run() async throws {
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_started", name: name)))
        // Cancellation (the group failing) ends the wait too; either way the listener closes.
        try? await gracefulShutdown()
        await stop()
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_ended", name: name)))
    }
}

/// The telemetry listener plus the router that applies its deliveries, as one service.
public struct TelemetryService: Service, CustomStringConvertible {
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

    public var description: String { "telemetry-listener" }

    public func run() async throws {
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_started", name: description)))
        let routing = Task { await router.run(listener.events) }
        try? await gracefulShutdown()
        await listener.stop()
        await routing.value
        recorder?.record(.lifecycle(LifecycleEvent(
            environmentID: environmentID, at: epochMicros(), kind: "process_ended", name: description)))
    }
}
