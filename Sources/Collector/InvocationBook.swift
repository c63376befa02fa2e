// Per-request state of the collector: which invocation is running, what ended it, whether its agent
// reported, and which proxy transactions must be made. The run loop, the agent receiver and the
// telemetry listener all tell the book what they saw; the book decides and writes the facts.

import LanternStore
import NIOCore

/// What ended an invocation for the collector, and when (epoch microseconds).
public struct InvocationEnd: Sendable, Equatable {
    public var reason: FlushReason
    public var at: Int64
}

/// What the book did at SHUTDOWN.
public struct ShutdownSummary: Sendable, Equatable {
    /// Invocations that had neither a runtimeDone nor an agent flush.
    public var pendingInvocations: Int
    public var proxiesCreated: Int
}

/// The collector's per-request state and the decisions made from it (ends, late flushes, proxies).
public actor InvocationBook: AgentObserver {
    /// One request id's state.
    /// A class so that the many `entries[id]?.field = …` updates write in place: as a struct, every one moved
    /// the whole entry out of the dictionary and back (3% of the extension's instructions per invocation).
    final class Entry {
        let requestID: String
        /// The collector's INVOKE receive time; nil while only the agent has named this request.
        var invokedAt: Int64?
        var deadlineMs: Int64?
        var functionARN: String?
        var coldStart: Bool?
        var timeoutMs: Int?
        var registration: TransactionRegistration?
        /// The agent's real transaction for the registration arrived.
        var observed = false
        /// A proxy was made (never twice).
        var proxied = false
        var end: InvocationEnd?
        var agentFlushed = false
        var runtimeDone: (at: Int64, status: String)?
        var reported = false
        var released = false
        /// For the lifecycle event (the fleet view): what the book learnt along the way.
        var runtimeDoneDetail: (errorType: String?, durationMs: Double?)?
        var releasedAt: Int64?
        var report: InvocationReport?
        var proxyTrigger: ProxyTrigger?
        /// Its lifecycle event was built (never twice).
        var factsForwarded = false

        init(requestID: String) { self.requestID = requestID }

        var needsProxy: Bool { registration != nil && !observed && !proxied }
    }

    /// How many finished requests the book remembers (late flushes and late reports need them).
    static let capacity = 64

    let environmentID: String
    let recorder: (any FactSink)?
    let forwarder: (any EventForwarding)?
    /// Where each invocation's lifecycle facts go (the forwarder), nil when `LANTERN_FORWARD_LIFECYCLE=false`.
    public nonisolated let lifecycle: (any EventForwarding)?
    /// Without telemetry no report comes: the lifecycle event is built at the release.
    private var reportsExpected = true

    private var entries: [String: Entry] = [:]
    /// Request ids in INVOKE order, oldest first.
    private var order: [String] = []
    /// The request between its INVOKE and its release.
    private(set) var current: String?
    /// Registered transaction id -> request id.
    private var transactionOwners: [String: String] = [:]
    private var waiter: (requestID: String, continuation: CheckedContinuation<InvocationEnd, Never>)?
    private var reportWaiter: CheckedContinuation<Void, Never>?
    /// The request of the last `platform.start`: function log lines belong to it.
    private var logRequestID: String?
    private var invocations = 0
    private var proxies = ProxyLedger()
    /// Agent flushes that ended nothing because their request was already over (or unknown).
    private(set) var lateFlushes = 0

    public init(
        environmentID: String, recorder: (any FactSink)?, forwarder: (any EventForwarding)?,
        lifecycle: (any EventForwarding)? = nil
    ) {
        self.environmentID = environmentID
        self.recorder = recorder
        self.forwarder = forwarder
        self.lifecycle = lifecycle
    }

    /// The Telemetry subscription failed: no report will come, so lifecycle events are built at the release.
    public func telemetryUnavailable() {
        reportsExpected = false
    }

    // MARK: run loop

    /// An INVOKE arrived: record it and make it the current request.
    public func invoke(
        requestID: String, deadlineMs: Int64, functionARN: String?, xrayTraceID: String?, receivedAt: Int64
    ) {
        invocations += 1
        let known = entries[requestID]
        let entry = known ?? Entry(requestID: requestID)
        let isNew = entry.invokedAt == nil
        entry.invokedAt = receivedAt
        entry.deadlineMs = deadlineMs
        entry.functionARN = functionARN
        entry.coldStart = invocations == 1
        entry.timeoutMs = Self.functionTimeoutMs(deadlineMs: deadlineMs, invokedAt: receivedAt)
        if known == nil { entries[requestID] = entry }
        if isNew { order.append(requestID) }
        current = requestID

        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environmentID
        fact.functionARN = functionARN
        fact.invokedAt = receivedAt
        fact.deadlineAt = deadlineMs * 1000
        fact.timeoutMs = entry.timeoutMs
        fact.traceID = xrayTraceID.map(Self.xrayRoot)
        fact.coldStart = entry.coldStart
        recorder?.record(.invocation(fact))
        prune()
    }

    /// Waits for the first of: this request's agent flush, its `platform.runtimeDone`, or its deadline
    /// minus a margin (`DeadlineMargin`). Returns at once when one of them already happened.
    /// Task cancellation (SIGTERM) ends the wait with reason `shutdown`.
    public func awaitEnd(of requestID: String) async -> InvocationEnd {
        let entry = entries[requestID]
        if let end = entry?.end { return end }
        let deadlineMs = entry?.deadlineMs ?? 0
        let invokedAt = entry?.invokedAt ?? epochMicros()
        let margin = DeadlineMargin.milliseconds(remainingMs: deadlineMs - invokedAt / 1000)
        let delayMicros = max(0, (deadlineMs - margin) * 1000 - epochMicros())
        let timer = LoopTimer(after: .microseconds(delayMicros)) { [weak self] in
            guard let self else { return }
            Task { await self.deadlineReached(requestID) }
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if let end = entries[requestID]?.end {
                    continuation.resume(returning: end)
                } else {
                    waiter = (requestID, continuation)
                    if Task.isCancelled { finishWaiting(InvocationEnd(reason: .shutdown, at: epochMicros())) }
                }
            }
        } onCancel: {
            Task { await self.cancelWaiting() }
        }
    }

    /// The collector is about to call `next`: record the release and how the invocation ended (and, when the
    /// send before it went out, that the proxies made so far went with it).
    public func released(requestID: String, at: Int64, proxiesForwarded: Bool = false) async {
        if proxiesForwarded { self.proxiesForwarded(at: at) }
        let entry = entries[requestID]
        entry?.released = true
        entry?.releasedAt = at
        if current == requestID { current = nil }
        var fact = InvocationFact(requestID: requestID)
        fact.releasedAt = at
        fact.flushReason = entry?.end?.reason
        recorder?.record(.invocation(fact))
        // The report comes after the release (its duration includes the extension's time), usually while the
        // next invocation runs: the event waits for it, unless none will come.
        if entry?.reported == true || !reportsExpected { await forwardFacts(of: requestID) }
    }

    /// SIGTERM/SIGINT while an invocation is running: stop waiting for it.
    public func cancelWaiting() {
        guard let waiter else { return }
        setEnd(waiter.requestID, InvocationEnd(reason: .shutdown, at: epochMicros()))
    }

    // MARK: agent (AgentObserver)

    public func agentSent(_ batch: AgentBatch) async {
        for transaction in batch.transactions {
            if let owner = transactionOwners[transaction.transactionID] { entries[owner]?.observed = true }
        }
        let target = attribute(batch)
        guard let target else {
            if batch.flushed { lateFlushes += 1 }
            return
        }
        var fact = InvocationFact(requestID: target)
        fact.agentEvents = batch.events.count
        fact.agentBytes = batch.bytes
        if batch.flushed {
            let entry = entries[target] ?? Entry(requestID: target)
            // The agent may name a request we have not seen INVOKE for yet (its flush beat our `next`).
            if entries[target] == nil { entries[target] = entry }
            if !entry.agentFlushed { fact.agentFlushedAt = batch.receivedAt }
            entry.agentFlushed = true
            if entry.end == nil && !entry.released {
                setEnd(target, InvocationEnd(reason: .agent, at: batch.receivedAt))
            } else {
                lateFlushes += 1
            }
        }
        recorder?.record(.invocation(fact))
    }

    public func agentRegistered(_ registration: TransactionRegistration) async {
        let id = registration.requestID
        let entry = entries[id] ?? Entry(requestID: id)
        if entries[id] == nil { entries[id] = entry }
        guard !entry.proxied else { return }
        if let previous = entry.registration { transactionOwners[previous.transactionID] = nil }
        entry.registration = registration
        transactionOwners[registration.transactionID] = id
        var fact = InvocationFact(requestID: id)
        fact.environmentID = environmentID
        fact.transactionID = registration.transactionID
        fact.registration = String(buffer: registration.transaction)
        recorder?.record(.invocation(fact))
    }

    /// The request a batch belongs to: the one its transactions name (by `faas.execution` or by a
    /// registered transaction id); without transactions, the current request.
    func attribute(_ batch: AgentBatch) -> String? {
        var named: [String] = []
        for transaction in batch.transactions {
            if let id = transaction.requestID, !id.isEmpty {
                named.append(id)
            } else if let owner = transactionOwners[transaction.transactionID] {
                named.append(owner)
            }
        }
        if named.isEmpty { return current }
        if let current, named.contains(current) { return current }
        return named.last
    }

    // MARK: telemetry

    /// `platform.start`: the function began this request; its log lines follow.
    public func platformStarted(requestID: String, at: Int64, functionARN: String? = nil) {
        logRequestID = requestID
        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environmentID
        fact.startedAt = at
        recorder?.record(.invocation(fact))
    }

    /// `platform.runtimeDone`: record it, make a proxy when the status is not success and the agent's
    /// transaction is missing, and end the invocation if it is still running.
    public func runtimeDone(
        requestID: String, at: Int64, status: String, errorType: String?, durationMs: Double?,
        producedBytes: Int?, responseAt: Int64? = nil
    ) async {
        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environmentID
        fact.runtimeDoneAt = at
        fact.status = InvocationStatus(rawValue: status)
        fact.errorType = errorType
        fact.runtimeDurationMs = durationMs
        fact.producedBytes = producedBytes
        fact.responseAt = responseAt
        recorder?.record(.invocation(fact))

        guard let entry = entries[requestID] else { return }
        entry.runtimeDone = (at, status)
        entry.runtimeDoneDetail = (errorType, durationMs)
        if status != InvocationStatus.success.rawValue, entry.needsProxy {
            let end = entry.invokedAt.map { Double(at - $0) / 1000 } ?? 0
            await makeProxy(requestID, result: status, durationMs: end, trigger: .runtimeDone)
        }
        if entry.end == nil && !entry.released {
            setEnd(requestID, InvocationEnd(reason: .runtimeDone, at: at))
        }
    }

    /// `platform.report`: the metrics update the invocation whenever they come, and become a metricset.
    public func reported(
        requestID: String, at: Int64, status: String, errorType: String?, durationMs: Double,
        billedDurationMs: Int?, memorySizeMB: Int?, maxMemoryUsedMB: Int?, initDurationMs: Double?,
        responseAt: Int64? = nil
    ) async {
        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environmentID
        fact.durationMs = durationMs
        fact.billedDurationMs = billedDurationMs
        fact.memorySizeMB = memorySizeMB
        fact.maxMemoryUsedMB = maxMemoryUsedMB
        fact.initDurationMs = initDurationMs
        fact.reportStatus = status
        let entry = entries[requestID]
        if entry?.runtimeDone == nil {
            // Without runtimeDone (Logs-API-style platforms) the report is the only status there is.
            fact.status = InvocationStatus(rawValue: status)
            fact.errorType = errorType
        }
        recorder?.record(.invocation(fact))
        entry?.reported = true
        if reportWaiter != nil && pendingReports == 0 {
            reportWaiter?.resume()
            reportWaiter = nil
        }
        let report = InvocationReport(
            requestID: requestID, at: at, functionARN: entry?.functionARN, coldStart: entry?.coldStart,
            timeoutMs: entry?.timeoutMs, status: status, durationMs: durationMs, billedDurationMs: billedDurationMs,
            memorySizeMB: memorySizeMB, maxMemoryUsedMB: maxMemoryUsedMB, initDurationMs: initDurationMs)
        entry?.report = report
        await forwarder?.forwardReport(report)
        if entry?.released == true { await forwardFacts(of: requestID) }
    }

    /// Function log lines of one delivery; `forward` says whether they go to the APM Server too.
    public func functionLogs(_ lines: [(at: Int64, message: String)], source: LogSource, forward: Bool) async {
        guard !lines.isEmpty else { return }
        let requestID = logRequestID
        let arn = requestID.flatMap { entries[$0]?.functionARN }
        var forwarded: [FunctionLogLine] = []
        for line in lines {
            let level = LogLevel.parse(line.message)
            recorder?.record(.log(LogRecord(
                environmentID: environmentID, requestID: requestID, at: line.at, source: source, level: level,
                message: line.message)))
            if forward && source == .function {
                forwarded.append(FunctionLogLine(
                    at: line.at, message: line.message, level: level, requestID: requestID, functionARN: arn))
            }
        }
        // One hop to the forwarder per delivery, not per line.
        if !forwarded.isEmpty { await forwarder?.forwardLogs(forwarded) }
        if let requestID, source == .function {
            var fact = InvocationFact(requestID: requestID)
            fact.logLines = lines.count
            recorder?.record(.invocation(fact))
        }
    }

    // MARK: deadline and shutdown

    /// The deadline timer of `requestID` fired: make the timeout proxy if one is needed, then end it.
    func deadlineReached(_ requestID: String) async {
        guard let waiter, waiter.requestID == requestID, entries[requestID]?.end == nil else { return }
        let now = epochMicros()
        if let entry = entries[requestID], entry.needsProxy {
            let duration = entry.invokedAt.map { Double(now - $0) / 1000 } ?? 0
            await makeProxy(requestID, result: "timeout", durationMs: duration, trigger: .timeout)
        }
        if entries[requestID]?.end == nil {
            setEnd(requestID, InvocationEnd(reason: .timeout, at: now))
        }
    }

    /// How many invoked requests still lack their `platform.report`.
    var pendingReports: Int {
        entries.values.count(where: { $0.invokedAt != nil && !$0.reported })
    }

    /// Waits (bounded) for the reports still missing, so the last invocation's metrics are not lost.
    public func awaitReports(timeout: Duration) async {
        guard pendingReports > 0, reportWaiter == nil else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.stopWaitingForReports()
        }
        await withCheckedContinuation { reportWaiter = $0 }
        timer.cancel()
    }

    private func stopWaitingForReports() {
        reportWaiter?.resume()
        reportWaiter = nil
    }

    /// SHUTDOWN: every registered transaction the agent never sent becomes a proxy (result = the
    /// runtimeDone status when known, else the shutdown reason), then the book is closed.
    public func shutdown(reason: String, at: Int64, deadlineMs: Int64) async -> ShutdownSummary {
        if let waiter { setEnd(waiter.requestID, InvocationEnd(reason: .shutdown, at: at)) }
        var pending = 0
        var proxies = 0
        for id in order + entries.keys.filter({ !order.contains($0) }) {
            guard let entry = entries[id] else { continue }
            if entry.invokedAt != nil && entry.runtimeDone == nil && !entry.agentFlushed { pending += 1 }
            guard entry.needsProxy else { continue }
            let result = entry.runtimeDone?.status ?? reason
            let endAt = entry.runtimeDone?.at ?? min(at, (entry.deadlineMs ?? at / 1000) * 1000)
            let duration = entry.invokedAt.map { Double(max(0, endAt - $0)) / 1000 } ?? 0
            await makeProxy(id, result: result, durationMs: duration, trigger: .shutdown)
            proxies += 1
        }
        // Those whose report never came (or that were still running) go out with what is known.
        for id in order { await forwardFacts(of: id) }
        return ShutdownSummary(pendingInvocations: pending, proxiesCreated: proxies)
    }

    /// How much per-request state the book holds (bounded in a long-lived environment).
    var footprint: (entries: Int, transactionOwners: Int, unforwarded: Int) {
        (entries.count, transactionOwners.count, proxies.unforwarded.count)
    }

    /// A send that included every proxy made so far succeeded: stamp their `forwarded_at`.
    public func proxiesForwarded(at: Int64) {
        for record in proxies.forwarded(at: at) { recorder?.record(.proxy(record)) }
    }

    // MARK: internals

    private func setEnd(_ requestID: String, _ end: InvocationEnd) {
        let entry = entries[requestID] ?? Entry(requestID: requestID)
        if entries[requestID] == nil { entries[requestID] = entry }
        guard entry.end == nil else { return }
        entry.end = end
        if let waiter, waiter.requestID == requestID { finishWaiting(end) }
    }

    private func finishWaiting(_ end: InvocationEnd) {
        let continuation = waiter?.continuation
        waiter = nil
        continuation?.resume(returning: end)
    }

    private func makeProxy(_ requestID: String, result: String, durationMs: Double, trigger: ProxyTrigger) async {
        guard let entry = entries[requestID], let registration = entry.registration, entry.needsProxy else { return }
        entry.proxied = true
        entry.proxyTrigger = trigger
        let proxy = proxies.make(
            requestID: requestID, environmentID: environmentID, registration: registration, result: result,
            durationMs: durationMs, trigger: trigger)
        recorder?.record(.proxy(proxy.record))
        await forwarder?.forwardProxy(proxy.event)
    }

    /// Forgets the oldest finished requests beyond `capacity`; one still owed a proxy gets it first.
    private func prune() {
        guard order.count > Self.capacity else { return }
        let excess = order.count - Self.capacity
        var dropped: [String] = []
        for id in order.prefix(excess) {
            guard let entry = entries[id], entry.released, id != current else { continue }
            if entry.needsProxy {
                let result = entry.runtimeDone?.status ?? "unknown"
                let endAt = entry.runtimeDone?.at ?? entry.end?.at ?? epochMicros()
                let duration = entry.invokedAt.map { Double(max(0, endAt - $0)) / 1000 } ?? 0
                // The agent's transaction did not come in `capacity` invocations: it is not coming.
                Task { await self.makeProxy(id, result: result, durationMs: duration, trigger: .runtimeDone) }
                continue
            }
            if !entry.factsForwarded, let facts = facts(of: entry) {
                // Forgotten before its report came: what is known goes out now.
                entry.factsForwarded = true
                Task { await self.lifecycle?.forwardInvocationFacts(facts) }
            }
            if let tx = entry.registration?.transactionID { transactionOwners[tx] = nil }
            entries[id] = nil
            dropped.append(id)
        }
        if dropped.count == excess {
            // The usual case: the oldest ones went, in order (no hashing of every remembered id).
            order.removeFirst(excess)
        } else if !dropped.isEmpty {
            let gone = Set(dropped)
            order.removeAll { gone.contains($0) }
        }
        // Entries the agent named but that never got an INVOKE are bounded too.
        if entries.count > Self.capacity * 2 {
            for (id, entry) in entries where entry.invokedAt == nil && !order.contains(id) {
                if let tx = entry.registration?.transactionID, transactionOwners[tx] == id { transactionOwners[tx] = nil }
                entries[id] = nil
            }
        }
    }

    // MARK: lifecycle facts

    /// Forwards the lifecycle event of `requestID` once (no-op when lifecycle forwarding is off).
    private func forwardFacts(of requestID: String) async {
        guard let lifecycle, let entry = entries[requestID], !entry.factsForwarded, let facts = facts(of: entry)
        else { return }
        entry.factsForwarded = true
        await lifecycle.forwardInvocationFacts(facts)
    }

    /// What the book knows about an invoked request, as lifecycle facts.
    private func facts(of entry: Entry) -> InvocationFacts? {
        guard lifecycle != nil, let invokedAt = entry.invokedAt else { return nil }
        var facts = InvocationFacts(requestID: entry.requestID, invokedAt: invokedAt)
        facts.functionARN = entry.functionARN
        facts.coldStart = entry.coldStart
        facts.status = entry.runtimeDone?.status ?? entry.report?.status
        facts.errorType = entry.runtimeDoneDetail?.errorType
        facts.flushReason = entry.end?.reason ?? (entry.released ? nil : .shutdown)
        facts.handlerMs = entry.runtimeDoneDetail?.durationMs
            ?? InvocationFacts.milliseconds(from: invokedAt, to: entry.runtimeDone?.at)
        facts.postRuntimeMs = InvocationFacts.milliseconds(from: entry.runtimeDone?.at, to: entry.releasedAt, signed: true)
        facts.totalMs = InvocationFacts.milliseconds(from: invokedAt, to: entry.releasedAt)
        if let report = entry.report {
            facts.reportDurationMs = report.durationMs
            facts.billedDurationMs = report.billedDurationMs
            facts.memorySizeMB = report.memorySizeMB
            facts.maxMemoryUsedMB = report.maxMemoryUsedMB
            facts.initDurationMs = report.initDurationMs
        }
        facts.timeoutMs = entry.timeoutMs
        facts.inFlight = 1
        facts.proxy = entry.proxyTrigger
        facts.transactionID = entry.registration?.transactionID
        facts.traceID = entry.registration?.traceID
        return facts
    }

    // MARK: pure helpers

    /// The function timeout Elastic reports: the remaining time at INVOKE, rounded up to whole seconds.
    static func functionTimeoutMs(deadlineMs: Int64, invokedAt: Int64) -> Int {
        let remaining = max(0, deadlineMs - invokedAt / 1000)
        return Int((remaining + 999) / 1000 * 1000)
    }

    /// `Root=1-abc-def;Parent=...;Sampled=1` -> `1-abc-def`; anything else is kept as it came.
    static func xrayRoot(_ header: String) -> String {
        for part in header.split(ascii: UInt8(ascii: ";")) {
            let trimmed = part.drop { $0 == " " }
            if trimmed.hasPrefix("Root=") { return String(trimmed.dropFirst(5)) }
        }
        return header
    }
}
