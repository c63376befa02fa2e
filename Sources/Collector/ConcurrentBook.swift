// Per-request state on Lambda Managed Instances, where one environment runs several invocations at once and
// nothing freezes. There is no INVOKE event and no runtimeDone: `platform.start` opens an invocation, its
// `platform.report` closes it (with a proxy transaction when the status is not success and the agent's own
// transaction never came), and the entry is dropped at once. Nothing waits on an invocation; agent data goes
// out by the forwarder's size and age. Attribution is by request id or transaction id only: with several
// invocations open there is no "current" one.

import LanternStore

/// The collector's per-request state on Managed Instances: open invocations by request id.
public actor ConcurrentBook: AgentObserver, TelemetryObserver, ShutdownBook {
    /// An invocation between its `platform.start` (or the agent's first word about it) and its `platform.report`.
    struct Entry {
        let requestID: String
        var startedAt: Int64?
        var functionARN: String?
        var registration: TransactionRegistration?
        /// The agent's real transaction for the registration arrived.
        var observed = false
        var proxied = false
        var agentFlushed = false
        /// Invocations in flight at its start, itself included; and whether it was the environment's first.
        var inFlight: Int?
        var coldStart: Bool?
        var proxyTrigger: ProxyTrigger?
        /// When the agent first named it (bounds entries whose start never comes).
        var namedAt: Int64

        init(requestID: String, namedAt: Int64) {
            self.requestID = requestID
            self.namedAt = namedAt
        }

        var needsProxy: Bool { registration != nil && !observed && !proxied }
    }

    /// Request ids remembered after their report (late agent data and log lines must not reopen them).
    static let closedCapacity = 1_024
    /// Entries the agent named but whose `platform.start` never came are dropped beyond this many.
    static let unstartedCapacity = 256
    /// Proxies not yet known to have reached the APM Server (as `InvocationBook`).

    let environmentID: String
    let recorder: (any FactSink)?
    let forwarder: (any EventForwarding)?
    /// Where each invocation's lifecycle facts go (the forwarder), nil when `LANTERN_FORWARD_LIFECYCLE=false`.
    public nonisolated let lifecycle: (any EventForwarding)?
    /// Without telemetry nothing reports an end: the agent's flush closes the invocation instead.
    private var agentFlushCloses = false

    private var open: [String: Entry] = [:]
    private var transactionOwners: [String: String] = [:]
    private var closed = RecentRequestIDs(capacity: ConcurrentBook.closedCapacity)
    /// Invocations started and not yet reported.
    private(set) var inFlight = 0
    private(set) var peakInFlight = 0
    private var started = 0
    private var proxies = ProxyLedger()
    private var reportWaiter: CheckedContinuation<Void, Never>?
    /// Agent flushes and batches that named an invocation already closed.
    private(set) var lateAgentData = 0

    public init(
        environmentID: String, recorder: (any FactSink)?, forwarder: (any EventForwarding)?,
        lifecycle: (any EventForwarding)? = nil
    ) {
        self.environmentID = environmentID
        self.recorder = recorder
        self.forwarder = forwarder
        self.lifecycle = lifecycle
    }

    /// The Telemetry subscription failed: from now on an agent's flush closes its invocation.
    public func telemetryUnavailable() {
        agentFlushCloses = true
    }

    // MARK: telemetry

    /// `platform.start`: the invocation is open, and counts toward the concurrency of those that start after it.
    public func platformStarted(requestID: String, at: Int64, functionARN: String?) {
        guard !closed.contains(requestID) else { return }
        var entry = open[requestID] ?? Entry(requestID: requestID, namedAt: at)
        guard entry.startedAt == nil else { return }
        entry.startedAt = at
        entry.functionARN = functionARN
        started += 1
        inFlight += 1
        peakInFlight = max(peakInFlight, inFlight)
        entry.inFlight = inFlight
        entry.coldStart = started == 1
        open[requestID] = entry

        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environmentID
        fact.functionARN = functionARN
        // No INVOKE event here: the platform's start is when the invocation began for everyone.
        fact.invokedAt = at
        fact.startedAt = at
        fact.coldStart = started == 1
        fact.inFlight = inFlight
        recorder?.record(.invocation(fact))
    }

    /// Managed Instances send no runtimeDone; one that comes anyway is recorded and ends nothing.
    public func runtimeDone(
        requestID: String, at: Int64, status: String, errorType: String?, durationMs: Double?,
        producedBytes: Int?, responseAt: Int64?
    ) {
        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environmentID
        fact.runtimeDoneAt = at
        fact.runtimeDurationMs = durationMs
        fact.producedBytes = producedBytes
        recorder?.record(.invocation(fact))
    }

    /// `platform.report`: the invocation's end. Records it, makes the proxy it is owed, forwards the metricset,
    /// and forgets the invocation.
    public func reported(
        requestID: String, at: Int64, status: String, errorType: String?, durationMs: Double,
        billedDurationMs: Int?, memorySizeMB: Int?, maxMemoryUsedMB: Int?, initDurationMs: Double?,
        responseAt: Int64?
    ) async {
        guard !closed.contains(requestID) else { return }
        let entry = close(requestID)
        var fact = InvocationFact(requestID: requestID)
        fact.environmentID = environmentID
        if entry?.startedAt == nil {
            // Its start came before the subscription (or was lost): the report alone dates it.
            fact.invokedAt = at - Int64(durationMs * 1000)
        }
        fact.status = InvocationStatus(rawValue: status)
        fact.errorType = errorType
        fact.reportStatus = status
        fact.durationMs = durationMs
        fact.billedDurationMs = billedDurationMs
        fact.memorySizeMB = memorySizeMB
        fact.maxMemoryUsedMB = maxMemoryUsedMB
        fact.initDurationMs = initDurationMs
        fact.responseAt = responseAt
        fact.flushReason = .report
        recorder?.record(.invocation(fact))
        resumeReportWaiterIfDone()
        var proxy: ProxyTrigger?
        if status != InvocationStatus.success.rawValue, let entry, entry.needsProxy {
            await makeProxy(entry, result: status, durationMs: durationMs, trigger: .report)
            proxy = .report
        }
        if let lifecycle {
            // The report is the end here: everything about the invocation is known, so its event is built now.
            var facts = Self.facts(of: entry, requestID: requestID, invokedAt: fact.invokedAt ?? entry?.startedAt ?? at)
            facts.status = status
            facts.errorType = errorType
            facts.flushReason = .report
            facts.handlerMs = durationMs
            facts.totalMs = durationMs
            facts.reportDurationMs = durationMs
            facts.billedDurationMs = billedDurationMs
            facts.memorySizeMB = memorySizeMB
            facts.maxMemoryUsedMB = maxMemoryUsedMB
            facts.initDurationMs = initDurationMs
            facts.proxy = proxy ?? entry?.proxyTrigger
            await lifecycle.forwardInvocationFacts(facts)
        }
        await forwarder?.forwardReport(InvocationReport(
            requestID: requestID, at: at, functionARN: entry?.functionARN, coldStart: nil, timeoutMs: nil,
            status: status, durationMs: durationMs, billedDurationMs: billedDurationMs, memorySizeMB: memorySizeMB,
            maxMemoryUsedMB: maxMemoryUsedMB, initDurationMs: initDurationMs))
    }

    /// Function log lines: each belongs to the invocation whose request id it carries (the Python and Node runtimes
    /// print it on every line, JSON logs have `requestId`), else to the only invocation in flight, else to none.
    public func functionLogs(_ lines: [(at: Int64, message: String)], source: LogSource, forward: Bool) async {
        var counts: [String: Int] = [:]
        var forwarded: [FunctionLogLine] = []
        for line in lines {
            let requestID = owner(ofLine: line.message)
            let level = LogLevel.parse(line.message)
            recorder?.record(.log(LogRecord(
                environmentID: environmentID, requestID: requestID, at: line.at, source: source, level: level,
                message: line.message)))
            if forward && source == .function {
                forwarded.append(FunctionLogLine(
                    at: line.at, message: line.message, level: level, requestID: requestID,
                    functionARN: requestID.flatMap { open[$0]?.functionARN }))
            }
            if let requestID, source == .function { counts[requestID, default: 0] += 1 }
        }
        // One hop to the forwarder per delivery, not per line.
        if !forwarded.isEmpty { await forwarder?.forwardLogs(forwarded) }
        for (requestID, count) in counts {
            var fact = InvocationFact(requestID: requestID)
            fact.logLines = count
            recorder?.record(.invocation(fact))
        }
    }

    // MARK: agent

    public func agentSent(_ batch: AgentBatch) async {
        var named: [String] = []
        for transaction in batch.transactions {
            let owner = transactionOwners[transaction.transactionID] ?? transaction.requestID
            if let owner, !owner.isEmpty {
                if open[owner]?.registration?.transactionID == transaction.transactionID { open[owner]?.observed = true }
                if !named.contains(owner) { named.append(owner) }
            }
        }
        // Spans, errors and metricsets carry no request id; they count toward an invocation only when one runs alone.
        if named.isEmpty, inFlight == 1, let only = open.first(where: { $0.value.startedAt != nil })?.key {
            named = [only]
        }
        for requestID in named {
            if closed.contains(requestID) {
                lateAgentData += 1
            } else if open[requestID] == nil {
                // The agent's word came before the delivery of `platform.start`.
                open[requestID] = Entry(requestID: requestID, namedAt: batch.receivedAt)
                boundUnstarted()
            }
            var fact = InvocationFact(requestID: requestID)
            fact.environmentID = environmentID
            if named.count == 1 {
                fact.agentEvents = batch.events.count
                fact.agentBytes = batch.bytes
            }
            if batch.flushed, open[requestID]?.agentFlushed == false {
                open[requestID]?.agentFlushed = true
                fact.agentFlushedAt = batch.receivedAt
                if agentFlushCloses {
                    fact.flushReason = .agent
                    recorder?.record(.invocation(fact))
                    let entry = close(requestID)
                    if let lifecycle, let entry, let startedAt = entry.startedAt {
                        var facts = Self.facts(of: entry, requestID: requestID, invokedAt: startedAt)
                        facts.flushReason = .agent
                        facts.totalMs = InvocationFacts.milliseconds(from: startedAt, to: batch.receivedAt)
                        await lifecycle.forwardInvocationFacts(facts)
                    }
                    continue
                }
            }
            if fact.agentEvents > 0 || fact.agentFlushedAt != nil { recorder?.record(.invocation(fact)) }
        }
    }

    public func agentRegistered(_ registration: TransactionRegistration) async {
        let id = registration.requestID
        guard !closed.contains(id) else { return }
        if open[id] == nil {
            open[id] = Entry(requestID: id, namedAt: registration.receivedAt)
            boundUnstarted()
        }
        guard open[id]?.proxied == false else { return }
        if let previous = open[id]?.registration { transactionOwners[previous.transactionID] = nil }
        open[id]?.registration = registration
        transactionOwners[registration.transactionID] = id
        var fact = InvocationFact(requestID: id)
        fact.environmentID = environmentID
        fact.transactionID = registration.transactionID
        fact.registration = String(buffer: registration.transaction)
        recorder?.record(.invocation(fact))
    }

    // MARK: shutdown

    /// Invocations started and not yet reported.
    var pendingReports: Int { inFlight }

    public func awaitReports(timeout: Duration) async {
        guard inFlight > 0, reportWaiter == nil else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.stopWaitingForReports()
        }
        await withCheckedContinuation { reportWaiter = $0 }
        timer.cancel()
    }

    /// SHUTDOWN: every invocation still open ends here (`shutdown`), with a proxy when its agent registered a
    /// transaction and never sent it.
    public func shutdown(reason: String, at: Int64, deadlineMs: Int64) async -> ShutdownSummary {
        var pending = 0
        var proxies = 0
        let remaining = open.values.sorted { ($0.startedAt ?? $0.namedAt) < ($1.startedAt ?? $1.namedAt) }
        for entry in remaining {
            _ = close(entry.requestID)
            if entry.startedAt != nil {
                pending += 1
                var fact = InvocationFact(requestID: entry.requestID)
                fact.flushReason = .shutdown
                recorder?.record(.invocation(fact))
            }
            var proxy: ProxyTrigger?
            if entry.needsProxy {
                let begin = entry.startedAt ?? entry.registration?.receivedAt ?? at
                await makeProxy(entry, result: reason, durationMs: Double(max(0, at - begin)) / 1000, trigger: .shutdown)
                proxies += 1
                proxy = .shutdown
            }
            if let lifecycle, let startedAt = entry.startedAt {
                var facts = Self.facts(of: entry, requestID: entry.requestID, invokedAt: startedAt)
                facts.flushReason = .shutdown
                facts.proxy = proxy
                await lifecycle.forwardInvocationFacts(facts)
            }
        }
        return ShutdownSummary(pendingInvocations: pending, proxiesCreated: proxies)
    }

    public func proxiesForwarded(at: Int64) {
        for record in proxies.forwarded(at: at) { recorder?.record(.proxy(record)) }
    }

    /// How much per-request state the book holds (flat in a long-lived environment).
    var footprint: (open: Int, transactionOwners: Int, closed: Int, unforwarded: Int) {
        (open.count, transactionOwners.count, closed.count, proxies.unforwarded.count)
    }

    // MARK: internals

    /// The lifecycle facts an entry carries (the caller adds how it ended).
    private static func facts(of entry: Entry?, requestID: String, invokedAt: Int64) -> InvocationFacts {
        var facts = InvocationFacts(requestID: requestID, invokedAt: invokedAt)
        facts.functionARN = entry?.functionARN
        facts.coldStart = entry?.coldStart
        facts.inFlight = entry?.inFlight
        facts.proxy = entry?.proxyTrigger
        facts.transactionID = entry?.registration?.transactionID
        facts.traceID = entry?.registration?.traceID
        return facts
    }

    /// Removes `requestID` from the open invocations and remembers it as closed.
    private func close(_ requestID: String) -> Entry? {
        closed.insert(requestID)
        guard let entry = open.removeValue(forKey: requestID) else { return nil }
        if entry.startedAt != nil { inFlight -= 1 }
        if let tx = entry.registration?.transactionID, transactionOwners[tx] == requestID { transactionOwners[tx] = nil }
        return entry
    }

    private func makeProxy(_ entry: Entry, result: String, durationMs: Double, trigger: ProxyTrigger) async {
        guard let registration = entry.registration else { return }
        let proxy = proxies.make(
            requestID: entry.requestID, environmentID: environmentID, registration: registration, result: result,
            durationMs: durationMs, trigger: trigger)
        recorder?.record(.proxy(proxy.record))
        await forwarder?.forwardProxy(proxy.event)
    }

    /// Drops the oldest entries the agent named whose start never came (a request id the platform never ran).
    private func boundUnstarted() {
        let unstarted = open.values.filter { $0.startedAt == nil }
        guard unstarted.count > Self.unstartedCapacity else { return }
        for entry in unstarted.sorted(by: { $0.namedAt < $1.namedAt }).prefix(unstarted.count - Self.unstartedCapacity) {
            _ = close(entry.requestID)
        }
    }

    private func resumeReportWaiterIfDone() {
        guard inFlight == 0, let waiter = reportWaiter else { return }
        reportWaiter = nil
        waiter.resume()
    }

    private func stopWaitingForReports() {
        reportWaiter?.resume()
        reportWaiter = nil
    }

    /// The open (or just closed) invocation a log line names, else the only one in flight.
    private func owner(ofLine message: String) -> String? {
        for candidate in RequestIDScan.candidates(in: message) {
            let id = String(candidate)
            if open[id] != nil || closed.contains(id) { return id }
        }
        guard inFlight == 1 else { return nil }
        return open.first { $0.value.startedAt != nil }?.key
    }
}

/// Finds request-id-shaped tokens (8-4-4-4-12 hex digits) in a log line.
enum RequestIDScan {
    static func candidates(in text: String) -> [Substring] {
        var bytes = text
        // Native strings are contiguous UTF-8; scanning the bytes in place spares a copy per log line.
        let offsets = bytes.withUTF8 { bytes -> [Int] in
            guard bytes.count >= 36 else { return [] }
            var found: [Int] = []
            var i = 0
            while i + 36 <= bytes.count {
                if isUUID(bytes, at: i) {
                    found.append(i)
                    i += 36
                } else {
                    i += 1
                }
            }
            return found
        }
        return offsets.map { offset in
            let start = text.utf8.index(text.utf8.startIndex, offsetBy: offset)
            return text[start..<text.utf8.index(start, offsetBy: 36)]
        }
    }

    private static func isUUID(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard b[i + 8] == UInt8(ascii: "-"), b[i + 13] == UInt8(ascii: "-"), b[i + 18] == UInt8(ascii: "-"),
              b[i + 23] == UInt8(ascii: "-") else { return false }
        for k in 0..<36 where k != 8 && k != 13 && k != 18 && k != 23 {
            let c = b[i + k]
            let hex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
            if !hex { return false }
        }
        return true
    }
}
