import Foundation
import LambdaWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Commands to the telemetry hub, kept in the order the sandbox issued them.
enum HubCommand: Sendable {
    case publish(TelemetryRecord, Int64)
    case beginInit
    case endInit
    case subscribe(extensionID: String, name: String, api: SubscriptionAPI, categories: Set<TelemetryCategory>, destination: URL, buffering: TelemetryBuffering)
    case removeAll
    case flush(CheckedContinuation<Void, Never>)
    /// Start no delivery (the subscribers are about to freeze); answered once none is in flight.
    case pause(CheckedContinuation<Void, Never>)
    /// Deliver again, what was held first.
    case resume
}

/// The execution environment: one runtime, its extensions, and Lambda's lifecycle around them
/// (init → ready ⇄ invoking → reset or shutdown). The single owner of that state; the HTTP routes call into it.
actor Sandbox {
    let configuration: EmulatorConfiguration
    let environment: LambdaEnvironment
    let console: Console
    let hubFeed: AsyncStream<HubCommand>.Continuation

    var phase: SandboxPhase = .uninitialized(afterReset: false) {
        // Whatever ends the invoke (release, timeout, crash) ends the spin-down's wait for it.
        didSet {
            if case .invoking = phase { return }
            invocationEndWaiter?.resume()
            invocationEndWaiter = nil
        }
    }
    /// Spin-down began: no invoke is admitted any more, though the current one may still be finishing.
    var spinningDown = false
    /// The spin-down waiting for the current invoke's post-runtime phase to end.
    var invocationEndWaiter: CheckedContinuation<Void, Never>?
    /// Bumped on every init and after every reset: events from processes of an older generation are ignored.
    var generation = 0

    // The runtime.
    var runtime: RuntimeState = .notStarted
    var runtimeWaiter: CheckedContinuation<RuntimeNext, Never>?
    var pendingRuntimeEvent: RuntimeInvokeEvent?
    var runtimeProcess: ChildProcess?

    // Extensions.
    var extensions: [String: ExtensionSlot] = [:]
    var extensionProcesses: [String: ChildProcess] = [:]
    /// File names of the external extensions started by the current init.
    var expectedExtensions: Set<String> = []
    var registrationOpen = false
    var subscriptionsOpen = false
    var subscribedAPIs: [String: SubscriptionAPI] = [:]
    /// When each external extension was spawned (for the EXTENSION start-up lines benchmarks read).
    var extensionLaunchedAt: [String: ContinuousClock.Instant] = [:]

    // Admission: one invoke (or init, or reset) owns the environment at a time; the rest wait in line.
    var owned = false
    var line: [CheckedContinuation<Bool, Never>] = []
    var initTimeoutTask: Task<Void, Never>?
    var pendingInitDurationMs: Double?
    var resetInProgress = false

    /// Lambda Managed Instances: the invocations in flight and the workers' queue (nil on-demand).
    var managed: ManagedState?

    // Freeze: the process groups stopped while the sandbox is idle.
    var freezer = Freezer()
    /// Bumped by every freeze request and thaw, so a freeze that waited for the telemetry hub does not stop a
    /// sandbox that has been handed an event meanwhile.
    var freezeEpoch = 0

    init(configuration: EmulatorConfiguration, environment: LambdaEnvironment, console: Console, hubFeed: AsyncStream<HubCommand>.Continuation) {
        self.configuration = configuration
        self.environment = environment
        self.console = console
        self.hubFeed = hubFeed
        if case .managedInstances(let n) = configuration.mode { managed = ManagedState(maxConcurrency: n) }
    }

    // MARK: Admission

    var isShuttingDown: Bool {
        if spinningDown { return true }
        switch phase {
        case .shuttingDown, .terminated: return true
        default: return false
        }
    }

    /// Waits for the environment; false when the emulator is shutting down instead.
    func acquire() async -> Bool {
        if isShuttingDown { return false }
        if !owned {
            owned = true
            return true
        }
        return await withCheckedContinuation { line.append($0) }
    }

    /// Hands the environment to the next in line.
    func release() {
        if isShuttingDown {
            owned = false
            let waiting = line
            line = []
            for w in waiting { w.resume(returning: false) }
            return
        }
        if line.isEmpty { owned = false } else { line.removeFirst().resume(returning: true) }
    }

    // MARK: Helpers

    static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        return (ms * 1000).rounded() / 1000
    }

    func publish(_ record: TelemetryRecord, at millis: Int64 = Sandbox.nowMillis()) {
        hubFeed.yield(.publish(record, millis))
    }

    /// Waits until the hub has delivered what it holds (bounded).
    func flushTelemetry() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            hubFeed.yield(.flush(c))
        }
    }

    /// The runtime and every external extension still run.
    var environmentHealthy: Bool {
        guard runtime != .exited, runtimeProcess?.exit == nil else { return false }
        return extensionProcesses.values.allSatisfy { $0.exit == nil }
    }

    /// The SHUTDOWN reason as the configured dialect spells it.
    func wireReason(_ reason: ShutdownReason) -> ShutdownReason {
        guard configuration.dialect == .rie else { return reason }
        switch reason {
        case .timeout: return ShutdownReason(rawValue: "Timeout")
        case .spindown: return ShutdownReason(rawValue: "SandboxTerminated")
        default: return ShutdownReason(rawValue: "ReleaseFail")
        }
    }

    /// Hands an event to an extension: to its pending `next`, or queued for its next one.
    func deliver(_ event: ExtensionEvent, to id: String) {
        guard var slot = extensions[id] else { return }
        if let waiter = slot.waiter {
            slot.waiter = nil
            if event.eventType == .invoke { slot.busy = true }
            extensions[id] = slot
            waiter.resume(returning: .event(event))
        } else {
            slot.pending.append(event)
            extensions[id] = slot
        }
    }

    // MARK: Freeze

    /// The sandbox went idle (init or an invoke ended): freeze its processes once the telemetry hub holds its
    /// deliveries, unless an event arrived meanwhile. Lambda does the same; telemetry waits for the thaw.
    func freezeWhenIdle() {
        guard configuration.freezes, case .ready = phase, !spinningDown else { return }
        freezeEpoch += 1
        let epoch = freezeEpoch
        Task { await self.freezeIfStillIdle(epoch) }
    }

    private func freezeIfStillIdle(_ epoch: Int) async {
        await withCheckedContinuation { (paused: CheckedContinuation<Void, Never>) in hubFeed.yield(.pause(paused)) }
        guard epoch == freezeEpoch, case .ready = phase, !spinningDown, !freezer.isFrozen else {
            // An event came first: its thaw may have resumed the hub before this pause reached it.
            hubFeed.yield(.resume)
            return
        }
        let groups = ([runtimeProcess] + Array(extensionProcesses.values)).compactMap { $0?.pid }
        freezer.freeze(groups)
    }

    /// Continues the sandbox's processes (before an event reaches them) and the telemetry held for them.
    func thaw() {
        freezeEpoch += 1
        freezer.thaw()
        hubFeed.yield(.resume)
    }

    // MARK: Eager init and idle failures

    /// `--eager-init`: initialise now rather than on the first invoke.
    func initializeEagerly() async {
        if managed != nil {
            await initializeManaged()
            return
        }
        guard await acquire() else { return }
        guard case .uninitialized(let afterReset) = phase else {
            release()
            return
        }
        let outcome = await initialize(phase: afterReset ? .invoke : .`init`)
        if case .failed(let failure) = outcome {
            console.note("init failed (\(failure.errorType): \(failure.errorMessage)); the next invoke initialises again")
            await resetAndRelease(.failure)
            return
        }
        release()
    }

    /// A process died between invokes: reset now (SHUTDOWN `failure`), as Lambda does.
    func resetWhenIdle() async {
        guard await acquire() else { return }
        if case .ready = phase, !environmentHealthy {
            await resetAndRelease(.failure)
            return
        }
        release()
    }
}
