import LambdaWire
import NIOCore

/// Where the execution environment is in its lifecycle.
enum SandboxPhase {
    /// Nothing runs. `afterReset` makes the next init report `phase: "invoke"` (a suppressed init).
    case uninitialized(afterReset: Bool)
    case initializing(InitProgress)
    /// Runtime and extensions wait in `next`.
    case ready
    case invoking(Invocation)
    /// The shutdown sequence after a timeout or crash; then `uninitialized`.
    case resetting
    /// SIGINT/SIGTERM: the final shutdown sequence; then `terminated`.
    case shuttingDown
    case terminated
}

/// The steps of init, in Lambda's order.
enum InitStage: Equatable {
    /// External extensions start (in parallel) and must all register.
    case extensionsRegistering
    /// The runtime starts; init waits for its first `next`. Registration closes when it arrives.
    case runtimeStarting
    /// Every registered extension must call `next`. Subscriptions close when they all have.
    case extensionsReadying
}

/// How an init ended.
enum InitOutcome: Sendable {
    case ready
    case failed(InitFailure)
}

/// Why init failed, and what the invoker gets.
struct InitFailure: Sendable {
    var errorType: String
    var errorMessage: String
    /// The runtime's own `/init/error` body, passed to the invoker unchanged.
    var body: ByteBuffer?
    var status: TelemetryStatus
}

/// An init in progress.
struct InitProgress {
    var stage: InitStage
    var phase: InitPhase
    var startedAt: ContinuousClock.Instant
    var startedAtMillis: Int64
    var waiters: [CheckedContinuation<InitOutcome, Never>] = []
    /// Set by `/init/error` (runtime or extension): init fails once the reporter exits or the stage ends.
    var reportedError: InitFailure?
}

/// The runtime's position in the Runtime API state machine.
enum RuntimeState: Equatable {
    case notStarted
    /// Spawned; has not called `next` yet (only now may it post `/init/error`).
    case started
    /// Waiting in `next`.
    case waiting
    /// Has the event of `requestID` and owes a response.
    case invoked(requestID: String)
    /// Has responded for `requestID`; its next `next` ends its part of the invoke.
    case responded(requestID: String)
    case exited
}

/// What the runtime's pending `next` gets.
enum RuntimeNext: Sendable {
    case invoke(RuntimeInvokeEvent)
    /// The sandbox is going away; the runtime should exit.
    case terminated
    /// A newer `next` (another connection) took this one's place.
    case superseded
}

/// The event handed to the runtime, with the headers of `/next`.
struct RuntimeInvokeEvent: Sendable {
    var requestID: String
    var deadlineMs: Int64
    var functionARN: String
    var traceID: String
    var clientContext: String?
    var tenantID: String?
    var contentType: String
    var payload: ByteBuffer
}

/// What an extension's pending `next` gets.
enum ExtensionNext: Sendable {
    case event(ExtensionEvent)
    case terminated
    /// A newer `next` (another connection) took this one's place.
    case superseded
}

/// A registered extension.
struct ExtensionSlot {
    var id: String
    var name: String
    var events: Set<ExtensionEventType>
    /// Started by the emulator from an extensions folder (external) or registered from inside the runtime (internal).
    var external: Bool
    var waiter: CheckedContinuation<ExtensionNext, Never>?
    var pending: [ExtensionEvent] = []
    /// Has called `next` at least once (init needs every extension ready).
    var ready = false
    /// Owes a `next` for the current invoke.
    var busy = false
}

/// One invoke from the caller's arrival to the release of the environment.
struct Invocation {
    var requestID: String
    var traceID: String
    var deadlineMs: Int64
    var startedAt: ContinuousClock.Instant
    var startedAtMillis: Int64
    var coldInitDurationMs: Double?
    var responder: CheckedContinuation<InvokeOutcome, Never>?
    var responseAt: ContinuousClock.Instant?
    var responseStartMillis: Int64?
    var producedBytes = 0
    var runtimeDone = false
    var runtimeReleased = false
    var status: TelemetryStatus = .success
    var errorType: String?
    var timeoutTask: Task<Void, Never>?
    var samplerTask: Task<Void, Never>?
    var peakMemoryKB = 0
}

/// What the invoker gets.
enum InvokeOutcome: Sendable {
    case response(requestID: String, body: ByteBuffer, contentType: String?)
    case functionError(requestID: String, body: ByteBuffer, errorType: String)
    case initError(requestID: String, InitFailure)
    case timeout(requestID: String, seconds: Double)
    case runtimeExit(requestID: String, exit: String)
    case extensionFailure(requestID: String, errorType: String, message: String)
    case responseTooLarge(requestID: String, bytes: Int)
    /// Every slot busy and `queued` invokes already waiting; `workers` is nil on-demand (one invoke runs).
    case tooManyRequests(queued: Int, workers: Int?)
    case shuttingDown
}

/// An invoke as the caller sent it.
struct InvokeRequest: Sendable {
    var payload: ByteBuffer
    var traceID: String?
    var clientContext: String?
    var tenantID: String?
}
