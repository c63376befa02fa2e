// The collector's start-up and shutdown order: its services run side by side; the first to end (or SIGTERM /
// SIGINT) starts the shutdown, which asks them to stop one at a time in the reverse order of their start, each
// stopped before the next is asked. swift-service-lifecycle's ServiceGroup does this and more; the extension
// carries this instead because ServiceGroup brings swift-async-algorithms along (1.2 MB of the layer binary,
// docs/layer.md). Signals still come from that package's `UnixSignals`.

import Logging
import UnixSignals

/// A long-lived part of the collector: runs until its `StopRequest` is set (or it is done), then returns.
public protocol CollectorService: Sendable {
    /// The name logs and lifecycle events use.
    var name: String { get }
    func run(until stop: StopRequest) async throws
}

/// Runs services side by side and stops them in the reverse order of their start.
public struct ServiceSequence: Sendable {
    let services: [any CollectorService]
    let signals: [UnixSignal]
    let logger: Logger

    public init(services: [any CollectorService], signals: [UnixSignal] = [.sigterm, .sigint], logger: Logger) {
        self.services = services
        self.signals = signals
        self.logger = logger
    }

    private enum Outcome: Sendable {
        case ended(Int, (any Error)?)
        case signal(UnixSignal)
        case signalsEnded
    }

    /// Runs until every service has returned; rethrows the first error a service threw.
    public func run() async throws {
        let stops = services.map { _ in StopRequest() }
        let signalSequence = await UnixSignalsSequence(trapping: signals)
        let firstError = await withTaskGroup(of: Outcome.self, returning: (any Error)?.self) { group in
            for (index, service) in services.enumerated() {
                group.addTask {
                    do {
                        try await service.run(until: stops[index])
                        return .ended(index, nil)
                    } catch {
                        return .ended(index, error)
                    }
                }
            }
            group.addTask {
                for await signal in signalSequence { return .signal(signal) }
                return .signalsEnded
            }

            var running = Set(services.indices)
            var firstError: (any Error)?
            func note(_ outcome: Outcome) {
                switch outcome {
                case .ended(let index, let error):
                    running.remove(index)
                    if let error {
                        logger.error("\(services[index].name) failed: \(error)")
                        if firstError == nil { firstError = error }
                    } else {
                        logger.debug("\(services[index].name) ended")
                    }
                case .signal(let signal):
                    logger.notice("received \(signal): shutting down")
                case .signalsEnded:
                    break
                }
            }

            // Whatever comes first (a service's end or a signal) starts the shutdown.
            while let first = await group.next() {
                note(first)
                if case .signalsEnded = first { continue }  // no signals to watch
                break
            }
            for index in services.indices.reversed() where running.contains(index) {
                stops[index].request()
                while running.contains(index), let outcome = await group.next() { note(outcome) }
            }
            group.cancelAll()  // the signal watcher
            return firstError
        }
        if let firstError { throw firstError }
    }
}
