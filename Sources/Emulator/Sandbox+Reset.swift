import Foundation
import LambdaWire

#if canImport(Glibc)
import Glibc
#endif

extension Sandbox {
    /// Resets after a timeout or crash, then lets the next invoke in (it re-initialises).
    func resetAndRelease(_ reason: ShutdownReason) async {
        await resetAndReleaseKeepingOwnership(reason)
        release()
    }

    /// The reset itself; the caller keeps the environment afterwards.
    func resetAndReleaseKeepingOwnership(_ reason: ShutdownReason) async {
        guard !isShuttingDown else { return }
        phase = .resetting
        resetInProgress = true
        await shutdownSequence(reason: reason)
        resetInProgress = false
        if case .resetting = phase { phase = .uninitialized(afterReset: true) }
    }

    /// How long a spin-down lets an invoke whose runtime has answered finish its post-runtime phase.
    static let spindownGrace: Duration = .seconds(2)

    /// SIGINT/SIGTERM to the emulator: SHUTDOWN `spindown` to the extensions, wait for them, kill what is left.
    /// Every invoke that started gets its `platform.report` before SHUTDOWN, as in Lambda.
    func spindown() async {
        guard !isShuttingDown else { return }
        spinningDown = true
        let waiting = line
        line = []
        for w in waiting { w.resume(returning: false) }
        spindownManaged()
        // Lambda never spins down in the middle of an invoke: the caller may already have its response while the
        // extensions still work (the early response), and the invoke, with its report, ends only at their `next`.
        await awaitPostRuntimePhase(within: Self.spindownGrace)
        if case .invoking(let inv) = phase, inv.responder != nil {
            // Cut short in the handler: the caller hears so, and runtimeDone says so (as for a crash), which
            // also ends the invoke for extensions waiting on it, so they reach `next` and get their SHUTDOWN.
            respond(.shuttingDown)
            runtimeDone(status: .failure, errorType: "Sandbox.Terminated")
        }
        let previous = phase
        phase = .shuttingDown
        switch previous {
        case .initializing(let progress):
            initTimeoutTask?.cancel()
            let failure = InitFailure(errorType: "Sandbox.Terminated", errorMessage: "the emulator is shutting down", body: nil, status: .failure)
            for waiter in progress.waiters { waiter.resume(returning: .failed(failure)) }
        case .invoking(let inv):
            // The invoke ends here (cut short, or its extensions overran the grace): its report still precedes
            // SHUTDOWN, which `shutdownSequence` sends only once the telemetry is flushed.
            finishInvocation(inv)
        default:
            break
        }
        // A reset already running owns the processes; let it finish first.
        while resetInProgress { try? await Task.sleep(for: .milliseconds(10)) }
        await shutdownSequence(reason: .spindown)
        phase = .terminated
    }

    /// Waits (up to `grace`) for the current invoke to end when its runtime has answered and only its
    /// post-runtime phase is left; returns at once otherwise. Its own timeout still applies meanwhile.
    func awaitPostRuntimePhase(within grace: Duration) async {
        guard case .invoking(let inv) = phase, inv.responder == nil, invocationEndWaiter == nil else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: grace)
            await self?.stopAwaitingInvocationEnd()
        }
        await withCheckedContinuation { invocationEndWaiter = $0 }
        timer.cancel()
    }

    private func stopAwaitingInvocationEnd() {
        invocationEndWaiter?.resume()
        invocationEndWaiter = nil
    }

    /// Lambda's shutdown: SIGTERM the runtime (SIGKILL at once when there are no extensions, else after 300 ms),
    /// SHUTDOWN with a deadline 2,000 ms ahead to the extensions subscribed to it, SIGKILL to the others and to
    /// anything alive at the deadline. Then forget every process.
    func shutdownSequence(reason: ShutdownReason) async {
        registrationOpen = false
        subscriptionsOpen = false
        initTimeoutTask?.cancel()
        initTimeoutTask = nil
        // From here on, events of these processes are stale, and a launch still in flight kills its child.
        generation += 1
        // SIGTERM and SHUTDOWN must reach running processes, and the telemetry flush below a listening one.
        thaw()
        // Extensions get what is buffered (the last report) before their SHUTDOWN.
        await flushTelemetry()

        let deadlineMs = Self.nowMillis() + 2000
        let deadline = ContinuousClock.now + .milliseconds(2000)
        let processes = [runtimeProcess].compactMap { $0 } + Array(extensionProcesses.values)
        if let runtime = runtimeProcess {
            if extensions.isEmpty && extensionProcesses.isEmpty {
                runtime.send(SIGKILL)
            } else {
                runtime.send(SIGTERM)
                Task {
                    try? await Task.sleep(for: .milliseconds(300))
                    runtime.send(SIGKILL)
                }
            }
        }
        let shutdown = ExtensionEvent.shutdown(reason: wireReason(reason), deadlineMs: deadlineMs)
        var subscribedNames = Set<String>()
        for (id, slot) in extensions {
            if slot.events.contains(.shutdown) {
                subscribedNames.insert(slot.name)
                deliver(shutdown, to: id)
            }
        }
        for (name, process) in extensionProcesses where !subscribedNames.contains(name) {
            process.send(SIGKILL)
        }
        let shutdownSentAt = ContinuousClock.now
        let console = self.console
        for (name, process) in extensionProcesses where subscribedNames.contains(name) {
            // Benchmarks read how long each extension takes from SHUTDOWN to exit.
            Task {
                _ = await process.waitForExit()
                console.line("SHUTDOWN \(name) exited \(Self.format(Self.milliseconds(since: shutdownSentAt), decimals: 3)) ms after SHUTDOWN")
            }
        }
        await Self.waitForExit(processes, until: deadline)
        for process in processes where process.exit == nil { process.send(SIGKILL) }
        await Self.waitForExit(processes, until: .now + .seconds(2))
        for process in processes where process.exit == nil {
            console.note("\(process.label) (pid \(process.pid.map(String.init) ?? "?")) did not exit after SIGKILL")
        }

        // Forget this generation; answer whatever still long-polls.
        if let waiter = runtimeWaiter {
            runtimeWaiter = nil
            waiter.resume(returning: .terminated)
        }
        managed?.releaseWorkers()
        for (_, slot) in extensions {
            slot.waiter?.resume(returning: .terminated)
        }
        extensions = [:]
        extensionProcesses = [:]
        expectedExtensions = []
        subscribedAPIs = [:]
        runtimeProcess = nil
        runtime = .notStarted
        pendingRuntimeEvent = nil
        pendingInitDurationMs = nil
        hubFeed.yield(.removeAll)
    }

    static func waitForExit(_ processes: [ChildProcess], until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, processes.contains(where: { $0.exit == nil }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: Process exits

    func runtimeExited(generation gen: Int, exit: ChildExit) {
        guard gen == generation else { return }
        runtime = .exited
        if let waiter = runtimeWaiter {
            runtimeWaiter = nil
            waiter.resume(returning: .terminated)
        }
        if managed != nil, case .ready = phase {
            managed?.releaseWorkers()
            managedEnvironmentFailed(
                errorType: WireErrorType.runtimeExitError, message: "Runtime exited with error: \(exit)", runtimeExit: exit.description)
            return
        }
        switch phase {
        case .initializing(let progress):
            if let reported = progress.reportedError {
                failInit(reported)
            } else if case .launchFailed(let why) = exit {
                failInit(InitFailure(errorType: "Runtime.InvalidEntrypoint", errorMessage: "cannot start \(configuration.bootstrap[0]): \(why)", body: nil, status: .error))
            } else {
                failInit(InitFailure(errorType: WireErrorType.runtimeExitError, errorMessage: "Runtime exited with error: \(exit)", body: nil, status: .error))
            }
        case .invoking:
            invocationFailed(errorType: WireErrorType.runtimeExitError, message: "Runtime exited with error: \(exit)", runtimeExit: exit.description)
        case .ready:
            Task { await self.resetWhenIdle() }
        default:
            break
        }
    }

    func extensionExited(name: String, generation gen: Int, exit: ChildExit) {
        guard gen == generation else { return }
        for (id, slot) in extensions where slot.name == name {
            if let waiter = slot.waiter {
                extensions[id]?.waiter = nil
                waiter.resume(returning: .terminated)
            }
        }
        let errorType: String
        if case .launchFailed = exit { errorType = WireErrorType.extensionLaunchError } else { errorType = WireErrorType.extensionCrash }
        let message = "extension \(name) exited: \(exit)"
        if managed != nil, case .ready = phase {
            managedEnvironmentFailed(errorType: errorType, message: message, runtimeExit: nil)
            return
        }
        switch phase {
        case .initializing:
            failInit(InitFailure(errorType: errorType, errorMessage: message, body: nil, status: .error))
        case .invoking:
            invocationFailed(errorType: errorType, message: message, runtimeExit: nil)
        case .ready:
            Task { await self.resetWhenIdle() }
        default:
            break
        }
    }
}
