// The frame around both run loops: ask `next` until SHUTDOWN or a signal, then run the shutdown sequence; a
// failing Extensions API is reported to Lambda (`exit/error`) and recorded.

import LambdaWire
import LanternStore
import Logging

/// Runs one of the collector's event loops to its end (classic `InvocationLoop` or Managed Instances' `ConcurrentLoop`).
struct ExtensionEventLoop: Sendable {
    /// Why a loop stopped asking for events.
    enum Exit: Sendable {
        case shutdownEvent(ExtensionEvent, receivedAt: Int64)
        case signal
    }

    let client: ExtensionsClient
    let identifier: String
    let recorder: (any FactSink)?
    let environmentID: String
    let logger: Logger
    let name: String
    let shutdown: ShutdownSequence

    /// Runs `loop` until it returns (SHUTDOWN) or `stop` is requested (a signal), then shuts down.
    func run(until stop: StopRequest, _ loop: @escaping @Sendable () async throws -> Exit) async throws {
        lifecycle("process_started", name: name)
        defer { lifecycle("process_ended", name: name) }
        let exit: Exit
        do {
            exit = try await stop.cancelling { try await loop() }
        } catch {
            guard stop.isRequested || error is CancellationError else {
                await fail(error)
                throw error
            }
            exit = .signal
        }
        switch exit {
        case .shutdownEvent(let event, let receivedAt):
            await shutdown.run(reason: event.shutdownReason?.rawValue ?? "unknown", deadlineMs: event.deadlineMs,
                               receivedAt: receivedAt)
        case .signal:
            let now = epochMicros()
            // A signal has no deadline of its own: take Lambda's 2,000 ms SHUTDOWN budget.
            await shutdown.run(reason: "signal", deadlineMs: now / 1000 + 2000, receivedAt: now)
        }
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
}
