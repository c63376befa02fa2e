import Foundation
import LambdaWire
import NIOCore

/// Lambda Managed Instances: one runtime whose workers (awslambdaric forks `AWS_LAMBDA_MAX_CONCURRENCY` processes)
/// each wait in `next`; up to N invocations run at once, each with its own deadline, found by request id. Nothing
/// freezes, extensions get SHUTDOWN only, and telemetry has `platform.start` / `platform.report` per request and no
/// `platform.runtimeDone`. Init, reset and the telemetry hub are the classic ones.
extension Sandbox {
    // MARK: Invoke

    /// An invoke on Managed Instances: starts at once when a slot is free, waits in line when every worker is busy
    /// (at most `--max-queue` wait, standing in for the service routing to another environment), else 429.
    func managedInvoke(_ request: InvokeRequest) async -> InvokeOutcome {
        guard let m = managed, !isShuttingDown else { return .shuttingDown }
        let startsNow: Bool = if case .ready = phase { m.line.isEmpty && m.hasFreeSlot } else { false }
        if !startsNow, m.line.count >= configuration.maxQueue {
            return .tooManyRequests(queued: m.line.count, workers: m.maxConcurrency)
        }
        return await withCheckedContinuation { (responder: CheckedContinuation<InvokeOutcome, Never>) in
            managed?.line.append(QueuedInvoke(request: request, responder: responder))
            pumpManaged()
        }
    }

    /// Moves the line on: initialises when nothing runs, starts invocations while slots are free.
    func pumpManaged() {
        guard let m = managed else { return }
        if isShuttingDown {
            managed?.line = []
            for q in m.line { q.responder.resume(returning: .shuttingDown) }
            return
        }
        switch phase {
        case .uninitialized:
            if !m.line.isEmpty, !m.initRunning, m.hold == .open {
                Task { await self.initializeManaged() }
            }
        case .ready:
            while let current = managed, current.hasFreeSlot, !current.line.isEmpty {
                let next = managed!.line.removeFirst()
                beginManagedInvocation(next)
            }
        default:
            break
        }
    }

    /// Runs init for the line (or eagerly). A failure answers every waiting invoke with it, then resets; the next
    /// invoke initialises again.
    func initializeManaged() async {
        guard managed != nil, !(managed?.initRunning ?? true), case .uninitialized(let afterReset) = phase else { return }
        managed?.initRunning = true
        let outcome = await initialize(phase: afterReset ? .invoke : .`init`)
        managed?.initRunning = false
        if case .failed(let failure) = outcome {
            let waiting = managed?.line ?? []
            managed?.line = []
            if isShuttingDown {
                for q in waiting { q.responder.resume(returning: .shuttingDown) }
                return
            }
            console.note("init failed (\(failure.errorType): \(failure.errorMessage)); the next invoke initialises again")
            for q in waiting { q.responder.resume(returning: .initError(requestID: UUID().uuidString.lowercased(), failure)) }
            managed?.hold = .resetting
            await resetAndReleaseKeepingOwnership(.failure)
            managed?.hold = .open
            managed?.refusedForInvoke = [:]
            pumpManaged()
            return
        }
        // Lambda reports no init duration on Managed Instances.
        pendingInitDurationMs = nil
        pumpManaged()
    }

    private func beginManagedInvocation(_ queued: QueuedInvoke) {
        let request = queued.request
        let requestID = UUID().uuidString.lowercased()
        let traceID = request.traceID ?? TraceID.generate()
        let startMillis = Self.nowMillis()
        let deadline = startMillis + configuration.timeoutMs
        var invocation = Invocation(
            requestID: requestID, traceID: traceID, deadlineMs: deadline, startedAt: .now, startedAtMillis: startMillis,
            coldInitDurationMs: nil, responder: queued.responder)
        console.line("START RequestId: \(requestID) Version: \(configuration.functionVersion)")
        publish(.start(PlatformStart(
            requestId: requestID, version: configuration.functionVersion, tracing: tracing(traceID),
            tenantId: request.tenantID, functionArn: configuration.functionARN)), at: startMillis)
        let timeout = configuration.timeoutMs
        invocation.timeoutTask = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(timeout))
            if !Task.isCancelled { await self?.managedTimedOut(requestID) }
        }
        managed?.inFlight[requestID] = invocation
        // (Not `managed?.peakInFlight = max(managed…)`: an optional-chained assignment holds `managed` for writing
        // while its right side reads it, which is an exclusivity violation.)
        if var m = managed {
            m.peakInFlight = max(m.peakInFlight, m.inFlight.count)
            managed = m
        }
        managed?.dispatch(RuntimeInvokeEvent(
            requestID: requestID, deadlineMs: deadline, functionARN: configuration.functionARN, traceID: traceID,
            clientContext: request.clientContext, tenantID: request.tenantID, contentType: "application/json",
            payload: request.payload))
    }

    /// Ends invocation `requestID`: answers its caller, publishes its `platform.report` (only `durationMs`, the
    /// response spans, status and error type: no billed duration or memory on Managed Instances) and frees its slot.
    func finishManaged(
        _ requestID: String, _ outcome: InvokeOutcome, status: TelemetryStatus, errorType: String?, receivedAtMillis: Int64?
    ) {
        guard let inv = managed?.inFlight.removeValue(forKey: requestID) else { return }
        inv.timeoutTask?.cancel()
        inv.responder?.resume(returning: outcome)
        let durationMs = Self.milliseconds(since: inv.startedAt)
        var spans: [TelemetrySpan]?
        if let end = receivedAtMillis {
            spans = [
                TelemetrySpan(name: "responseLatency", start: WireTime.format(epochMillis: inv.startedAtMillis),
                              durationMs: Double(max(0, end - inv.startedAtMillis))),
                TelemetrySpan(name: "responseDuration", start: WireTime.format(epochMillis: end),
                              durationMs: max(0, Double(Self.nowMillis() - end))),
            ]
        }
        publish(.report(PlatformReport(
            requestId: requestID, status: status, errorType: status == .success ? nil : errorType,
            metrics: ReportMetrics(durationMs: durationMs), spans: spans, tracing: tracing(inv.traceID))))
        console.line("END RequestId: \(requestID)")
        var report = "REPORT RequestId: \(requestID)\tDuration: \(Self.format(durationMs)) ms"
        if status != .success {
            report += "\tStatus: \(status)"
            if let errorType { report += "\tError Type: \(errorType)" }
        }
        console.line(report)
        resetIfDrained()
        pumpManaged()
    }

    // MARK: Runtime API

    /// `GET /runtime/invocation/next` from one worker: joins the queue of idle workers (none replaces another).
    func managedRuntimeNext() async throws(APIFailure) -> RuntimeNext {
        switch phase {
        case .terminated, .shuttingDown: return .terminated
        default: break
        }
        if runtime == .notStarted || runtime == .exited { throw Self.transitionRefused(runtimeStateName, "Ready") }
        if let event = managed?.pendingEvents.first {
            managed?.pendingEvents.removeFirst()
            return .invoke(event)
        }
        return await withCheckedContinuation { (worker: CheckedContinuation<RuntimeNext, Never>) in
            managed?.idleWorkers.append(worker)
            advanceInit()
        }
    }

    /// `POST /runtime/invocation/{id}/response` on Managed Instances: the invocation is found by its id.
    func managedRuntimeResponse(_ requestID: String, _ post: RuntimePost) throws(APIFailure) {
        guard managed?.inFlight[requestID] != nil else {
            throw APIFailure(400, WireErrorType.invalidRequestID, "Invalid request ID")
        }
        if let mode = post.responseMode, mode.lowercased() != RuntimeAPI.streamingResponseMode {
            throw APIFailure(400, WireErrorType.invalidFunctionResponseMode,
                             "Invalid function response mode '\(mode)': only 'streaming' may be set in \(RuntimeAPI.Header.responseMode)")
        }
        if post.tooLarge {
            finishManaged(requestID, .responseTooLarge(requestID: requestID, bytes: post.bodyBytes), status: .error,
                          errorType: WireErrorType.responseSizeTooLarge, receivedAtMillis: post.receivedAtMillis)
            throw APIFailure(413, WireErrorType.requestEntityTooLarge,
                             "Exceeded maximum allowed payload size (\(RuntimeAPI.maxResponseBytes) bytes).")
        }
        if let midStream = post.trailerErrorType {
            finishManaged(requestID, .functionError(requestID: requestID, body: post.body, errorType: midStream), status: .error,
                          errorType: normalizedErrorType(midStream), receivedAtMillis: post.receivedAtMillis)
            return
        }
        finishManaged(requestID, .response(requestID: requestID, body: post.body, contentType: post.contentType),
                      status: .success, errorType: nil, receivedAtMillis: post.receivedAtMillis)
    }

    /// `POST /runtime/invocation/{id}/error` on Managed Instances.
    func managedRuntimeError(_ requestID: String, _ post: RuntimePost) throws(APIFailure) {
        guard managed?.inFlight[requestID] != nil else {
            throw APIFailure(400, WireErrorType.invalidRequestID, "Invalid request ID")
        }
        if post.tooLarge {
            finishManaged(requestID, .responseTooLarge(requestID: requestID, bytes: post.bodyBytes), status: .error,
                          errorType: WireErrorType.responseSizeTooLarge, receivedAtMillis: post.receivedAtMillis)
            throw APIFailure(413, WireErrorType.requestEntityTooLarge,
                             "Exceeded maximum allowed payload size (\(RuntimeAPI.maxResponseBytes) bytes).")
        }
        let errorType = normalizedErrorType(post.errorTypeHeader)
        finishManaged(requestID, .functionError(requestID: requestID, body: post.body, errorType: errorType), status: .error,
                      errorType: errorType, receivedAtMillis: post.receivedAtMillis)
    }

    // MARK: Timeouts and failures

    /// Invocation `requestID` passed its own deadline. Its caller gets the classic timeout answer and its report
    /// `status: timeout`. Its worker is still in the handler and cannot be told to stop (the Runtime API has no
    /// cancel, and the worker is a process the runtime forked), so the environment is treated as broken: it
    /// admits nothing new, lets the other invocations finish (each within its own deadline), then resets (SHUTDOWN
    /// `timeout`) and initialises again for whatever waits.
    func managedTimedOut(_ requestID: String) {
        guard managed?.inFlight[requestID] != nil else { return }
        let seconds = configuration.timeoutSeconds
        console.line("\(WireTime.format(epochMillis: Self.nowMillis())) \(requestID) Task timed out after \(Self.format(seconds)) seconds")
        if managed?.hold == .open { managed?.hold = .draining(.timeout) }
        finishManaged(requestID, .timeout(requestID: requestID, seconds: seconds), status: .timeout, errorType: nil, receivedAtMillis: nil)
    }

    /// The runtime or an extension died (or reported an exit error) while the environment served: every invocation
    /// in flight fails with it, and the environment resets (Lambda replaces an unhealthy Managed Instances environment).
    func managedEnvironmentFailed(errorType: String, message: String, runtimeExit: String?) {
        guard let m = managed, m.hold != .resetting else { return }
        console.line("Error: \(message)\n\(errorType)")
        if case .draining = m.hold {} else { managed?.hold = .draining(.failure) }
        let status: TelemetryStatus = errorType.hasPrefix("Sandbox.") ? .failure : .error
        for id in m.inFlight.keys.sorted() {
            let outcome: InvokeOutcome = runtimeExit.map { .runtimeExit(requestID: id, exit: $0) }
                ?? .extensionFailure(requestID: id, errorType: errorType, message: "RequestId: \(id) Error: \(message)")
            finishManaged(id, outcome, status: status, errorType: errorType, receivedAtMillis: nil)
        }
        resetIfDrained()
    }

    /// Starts the reset once a draining environment has nothing in flight.
    private func resetIfDrained() {
        guard let m = managed, case .draining(let reason) = m.hold, m.inFlight.isEmpty else { return }
        managed?.hold = .resetting
        Task { await self.resetManaged(reason) }
    }

    private func resetManaged(_ reason: ShutdownReason) async {
        await resetAndReleaseKeepingOwnership(reason)
        managed?.hold = .open
        managed?.refusedForInvoke = [:]
        if configuration.eagerInit, managed?.line.isEmpty ?? false {
            await initializeManaged()
        } else {
            pumpManaged()
        }
    }

    /// Spin-down on Managed Instances: invocations still in their handler are cut short (503 to the caller,
    /// `platform.report` status `failure`, `Sandbox.Terminated`), as classic does; their reports precede SHUTDOWN.
    func spindownManaged() {
        guard let m = managed else { return }
        pumpManaged()
        for id in m.inFlight.keys.sorted() {
            finishManaged(id, .shuttingDown, status: .failure, errorType: "Sandbox.Terminated", receivedAtMillis: nil)
        }
    }

    // MARK: Init and registration rules

    /// The runtime has done its part of init: classic, its `next`; Managed Instances, every worker's `next`.
    var runtimeReadyForInit: Bool {
        if let m = managed { return m.idleWorkers.count >= m.maxConcurrency }
        return runtime == .waiting
    }

    /// An init failure as Lambda shows it on Managed Instances when an extension asked for INVOKE:
    /// `Extension.InitError`, saying why.
    func explained(_ failure: InitFailure) -> InitFailure {
        guard let m = managed, !m.refusedForInvoke.isEmpty else { return failure }
        let names = m.refusedForInvoke.keys.sorted().joined(separator: ", ")
        var explained = failure
        explained.errorType = WireErrorType.extensionInitError
        explained.errorMessage = "extension \(names) registered for INVOKE, which Lambda Managed Instances refuse "
            + "(extensions may register for SHUTDOWN only; the register call got 403 \(WireErrorType.invalidEventType)), "
            + "then: \(failure.errorMessage)"
        return explained
    }

    /// How many workers have called `next` (for the init timeout's message).
    var managedWorkersWaiting: String {
        guard let m = managed else { return "" }
        return " (\(m.idleWorkers.count) of \(m.maxConcurrency) runtime workers called next)"
    }
}
