import Foundation
import LambdaWire
import NIOCore

extension Sandbox {
    /// One invoke from the invoke endpoint. Returns as soon as the runtime has answered (the environment stays busy
    /// until the extensions are done), or with an error; waits in line behind a running invoke, or gets 429.
    func invoke(_ request: InvokeRequest) async -> InvokeOutcome {
        if managed != nil { return await managedInvoke(request) }
        if isShuttingDown { return .shuttingDown }
        if owned, line.count >= configuration.maxQueue { return .tooManyRequests(queued: line.count, workers: nil) }
        guard await acquire() else { return .shuttingDown }

        if case .ready = phase, !environmentHealthy {
            await resetAndReleaseKeepingOwnership(.failure)
        }
        if case .uninitialized(let afterReset) = phase {
            let outcome = await initialize(phase: afterReset ? .invoke : .`init`)
            if case .failed(let failure) = outcome {
                Task { await self.resetAndRelease(.failure) }
                return .initError(requestID: UUID().uuidString.lowercased(), failure)
            }
        }
        guard case .ready = phase else {
            // Spin-down began while this invoke waited for init.
            release()
            return .shuttingDown
        }
        return await withCheckedContinuation { (responder: CheckedContinuation<InvokeOutcome, Never>) in
            beginInvocation(request, responder: responder)
        }
    }

    private func beginInvocation(_ request: InvokeRequest, responder: CheckedContinuation<InvokeOutcome, Never>) {
        thaw()
        let requestID = UUID().uuidString.lowercased()
        let traceID = request.traceID ?? TraceID.generate()
        let startMillis = Self.nowMillis()
        let deadline = startMillis + configuration.timeoutMs
        var invocation = Invocation(
            requestID: requestID, traceID: traceID, deadlineMs: deadline, startedAt: .now, startedAtMillis: startMillis,
            coldInitDurationMs: pendingInitDurationMs, responder: responder)
        pendingInitDurationMs = nil

        console.line("START RequestId: \(requestID) Version: \(configuration.functionVersion)")
        publish(.start(PlatformStart(
            requestId: requestID, version: configuration.functionVersion, tracing: tracing(traceID),
            tenantId: request.tenantID)), at: startMillis)

        let event = RuntimeInvokeEvent(
            requestID: requestID, deadlineMs: deadline, functionARN: configuration.functionARN, traceID: traceID,
            clientContext: request.clientContext, tenantID: request.tenantID,
            // Invoke events are JSON whatever the caller said (as RIE and the Invoke API treat them); awslambdaric
            // would hand a handler raw bytes for any other content type.
            contentType: "application/json", payload: request.payload)
        runtime = .invoked(requestID: requestID)
        if let waiter = runtimeWaiter {
            runtimeWaiter = nil
            waiter.resume(returning: .invoke(event))
        } else {
            pendingRuntimeEvent = event
        }
        let invokeEvent = ExtensionEvent.invoke(
            requestId: requestID, deadlineMs: deadline, invokedFunctionArn: configuration.functionARN,
            tracing: InvokeTracing(value: traceID))
        for (id, slot) in extensions where slot.events.contains(.invoke) {
            deliver(invokeEvent, to: id)
        }

        let timeout = configuration.timeoutMs
        invocation.timeoutTask = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(timeout))
            if !Task.isCancelled { await self?.invocationTimedOut(requestID) }
        }
        invocation.samplerTask = Task { [weak self] in
            while !Task.isCancelled {
                guard let pid = await self?.runtimeProcess?.pid else { return }
                let kb = MemorySampler.treePeakKB(root: pid)
                await self?.recordMemory(kb, requestID: requestID)
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        phase = .invoking(invocation)
    }

    func tracing(_ traceID: String) -> TraceContext {
        TraceContext(spanId: TraceID.parent(of: traceID), value: traceID)
    }

    private func recordMemory(_ kb: Int, requestID: String) {
        withInvocation(requestID) { $0.peakMemoryKB = max($0.peakMemoryKB, kb) }
    }

    /// Runs `body` on the current invocation (if it is `requestID`'s) and stores the result back.
    @discardableResult
    func withInvocation<T>(_ requestID: String? = nil, _ body: (inout Invocation) -> T) -> T? {
        guard case .invoking(var invocation) = phase, requestID == nil || invocation.requestID == requestID else { return nil }
        let result = body(&invocation)
        phase = .invoking(invocation)
        return result
    }

    /// Answers the caller (once).
    func respond(_ outcome: InvokeOutcome) {
        withInvocation { inv in
            guard let responder = inv.responder else { return }
            inv.responder = nil
            inv.responseAt = .now
            responder.resume(returning: outcome)
        }
    }

    /// `platform.runtimeDone` for the current invocation (once).
    func runtimeDone(status: TelemetryStatus, errorType: String?, producedBytes: Int? = nil, receivedAtMillis: Int64? = nil) {
        guard let result = withInvocation(nil, { (inv: inout Invocation) -> Invocation? in
            guard !inv.runtimeDone else { return nil }
            inv.runtimeDone = true
            if inv.status == .success {
                inv.status = status
                inv.errorType = errorType
            }
            return inv
        }), let inv = result else { return }
        let durationMs = Self.milliseconds(since: inv.startedAt)
        let end = receivedAtMillis ?? Self.nowMillis()
        var spans: [TelemetrySpan]?
        if status != .timeout {
            let latency = Double(max(0, end - inv.startedAtMillis))
            spans = [
                TelemetrySpan(name: "responseLatency", start: WireTime.format(epochMillis: inv.startedAtMillis), durationMs: latency),
                TelemetrySpan(name: "responseDuration", start: WireTime.format(epochMillis: end),
                              durationMs: max(0, Double(Self.nowMillis() - end))),
            ]
        }
        publish(.runtimeDone(PlatformRuntimeDone(
            requestId: inv.requestID, status: status, errorType: errorType,
            metrics: RuntimeDoneMetrics(durationMs: durationMs, producedBytes: producedBytes ?? 0), spans: spans,
            tracing: tracing(inv.traceID))))
    }

    /// The runtime called `next` after answering `requestID`.
    func runtimeReleased(_ requestID: String) {
        withInvocation(requestID) { $0.runtimeReleased = true }
        checkInvocationComplete()
    }

    /// The invoke ends once the runtime and every INVOKE-subscribed extension have called `next` again.
    func checkInvocationComplete() {
        guard case .invoking(let inv) = phase, inv.runtimeReleased, !extensions.values.contains(where: \.busy) else { return }
        finishInvocation(inv)
        phase = .ready
        release()
        freezeWhenIdle()
    }

    /// Publishes `platform.report`, prints END and REPORT, stops the timers.
    func finishInvocation(_ inv: Invocation) {
        inv.timeoutTask?.cancel()
        inv.samplerTask?.cancel()
        let durationMs = Self.milliseconds(since: inv.startedAt)
        var peak = inv.peakMemoryKB
        if let pid = runtimeProcess?.pid { peak = max(peak, MemorySampler.treePeakKB(root: pid)) }
        let metrics = ReportMetrics(
            durationMs: durationMs, billedDurationMs: Int(durationMs.rounded(.up)), memorySizeMB: configuration.memoryMB,
            maxMemoryUsedMB: MemorySampler.megabytes(kilobytes: peak), initDurationMs: inv.coldInitDurationMs)
        publish(.end(PlatformEnd(requestId: inv.requestID)))
        publish(.report(PlatformReport(
            requestId: inv.requestID, status: inv.status, errorType: inv.status == .success ? nil : inv.errorType,
            metrics: metrics, tracing: tracing(inv.traceID))))
        console.line("END RequestId: \(inv.requestID)")
        var report = "REPORT RequestId: \(inv.requestID)\tDuration: \(Self.format(durationMs)) ms\tBilled Duration: \(metrics.billedDurationMs ?? 0) ms\tMemory Size: \(configuration.memoryMB) MB\tMax Memory Used: \(metrics.maxMemoryUsedMB ?? 0) MB"
        if let initMs = inv.coldInitDurationMs { report += "\tInit Duration: \(Self.format(initMs)) ms" }
        // Not in Lambda's line: the time from the runtime's response to the release (post-runtime extension work).
        if let responseAt = inv.responseAt { report += "\tPost Runtime Duration: \(Self.format(Self.milliseconds(since: responseAt), decimals: 3)) ms" }
        if inv.status != .success {
            report += "\tStatus: \(inv.status)"
            if let e = inv.errorType { report += "\tError Type: \(e)" }
        }
        console.line(report)
    }

    /// The function timeout passed (runtime and post-invoke extension work both count).
    func invocationTimedOut(_ requestID: String) {
        guard case .invoking(var inv) = phase, inv.requestID == requestID else { return }
        let seconds = configuration.timeoutSeconds
        console.line("\(WireTime.format(epochMillis: Self.nowMillis())) \(requestID) Task timed out after \(Self.format(seconds)) seconds")
        respond(.timeout(requestID: requestID, seconds: seconds))
        runtimeDone(status: .timeout, errorType: nil)
        guard case .invoking(let current) = phase else { return }
        inv = current
        inv.status = .timeout
        inv.errorType = nil
        finishInvocation(inv)
        phase = .resetting
        Task { await self.resetAndRelease(.timeout) }
    }

    /// The runtime or an extension died (or reported an exit error) during the invoke.
    func invocationFailed(errorType: String, message: String, runtimeExit: String?) {
        guard case .invoking(let inv) = phase else { return }
        console.line("RequestId: \(inv.requestID) Error: \(message)\n\(errorType)")
        if let runtimeExit {
            respond(.runtimeExit(requestID: inv.requestID, exit: runtimeExit))
        } else {
            respond(.extensionFailure(requestID: inv.requestID, errorType: errorType, message: "RequestId: \(inv.requestID) Error: \(message)"))
        }
        let status: TelemetryStatus = errorType.hasPrefix("Sandbox.") ? .failure : .error
        runtimeDone(status: status, errorType: errorType)
        guard case .invoking(var current) = phase else { return }
        if current.status == .success || current.errorType == nil {
            current.status = status
            current.errorType = errorType
        }
        finishInvocation(current)
        phase = .resetting
        Task { await self.resetAndRelease(.failure) }
    }
}
