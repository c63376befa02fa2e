import LambdaWire
import NIOCore

/// An invoke waiting for a free worker on Managed Instances, with the continuation its caller waits on.
struct QueuedInvoke {
    var request: InvokeRequest
    var responder: CheckedContinuation<InvokeOutcome, Never>
}

/// What stops a Managed Instances environment from admitting invokes for a while.
enum ManagedHold: Equatable {
    /// Admits up to `maxConcurrency` invokes.
    case open
    /// An invocation timed out or a process died: admit nothing; once nothing is in flight, reset (`reason`).
    case draining(ShutdownReason)
    /// The reset (or an init) runs.
    case resetting
}

/// The Lambda Managed Instances side of the sandbox: several invocations in flight, each found by its request id,
/// and the runtime's workers waiting in `next` in a queue (none replaces another, unlike the classic single waiter).
/// Owned by the `Sandbox` actor; nil in on-demand mode, where the classic fields (`phase: .invoking`, one runtime
/// waiter, one pending event) apply instead.
struct ManagedState {
    let maxConcurrency: Int
    /// Invocations handed to a worker (or waiting in `pendingEvents` for one), by request id.
    var inFlight: [String: Invocation] = [:]
    /// Workers waiting in `next`, oldest first.
    var idleWorkers: [CheckedContinuation<RuntimeNext, Never>] = []
    /// Admitted events no worker has taken yet (a worker between its response and its next `next`).
    var pendingEvents: [RuntimeInvokeEvent] = []
    /// Invokes waiting for a free slot, oldest first (bounded by `--max-queue`).
    var line: [QueuedInvoke] = []
    var hold: ManagedHold = .open
    /// An init started by the line (or eagerly) is running.
    var initRunning = false
    /// Extensions whose registration was refused because they asked for INVOKE, with the refusal: their init
    /// failure is explained as Lambda shows it (`Extension.InitError`).
    var refusedForInvoke: [String: String] = [:]
    /// The most invocations in flight at once so far (for the console's summary line).
    var peakInFlight = 0

    init(maxConcurrency: Int) { self.maxConcurrency = maxConcurrency }

    /// Whether another invocation may start now.
    var hasFreeSlot: Bool { hold == .open && inFlight.count < maxConcurrency }

    /// Hands `event` to the oldest idle worker, or keeps it for the next `next`.
    mutating func dispatch(_ event: RuntimeInvokeEvent) {
        if idleWorkers.isEmpty {
            pendingEvents.append(event)
        } else {
            idleWorkers.removeFirst().resume(returning: .invoke(event))
        }
    }

    /// Answers every worker waiting in `next` (the environment goes away) and forgets undelivered events.
    mutating func releaseWorkers() {
        let waiting = idleWorkers
        idleWorkers = []
        pendingEvents = []
        for w in waiting { w.resume(returning: .terminated) }
    }
}
