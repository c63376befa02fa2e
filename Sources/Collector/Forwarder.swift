// Ships APM events to the APM Server: batches by count/size/age, one metadata line per request (the
// agent's, or one synthesized from the Lambda environment), gzip ndjson POSTs bounded by the caller's
// deadline, a bounded retry buffer, and Elastic's backoff kept across invocations. While the server
// is backing off, a flush returns `deferred` at once; the retry after the grace period is a probe made
// in the background, so a hanging server costs one invocation at most one send timeout. Every send,
// deferral and drop is a `flushes` row.

import CompressNIO
import LanternStore
import Logging
import NIOCore
import NIOPosix

/// Sends APM events to the APM Server (one per environment).
public actor Forwarder {
    /// A batch cut from the pending events, or one that failed and waits for a retry.
    struct Batch {
        var lines: [ByteBuffer]
        var bytes: Int
        var requestID: String?
        var attempt: Int
        var events: Int { lines.count }
    }

    let configuration: ForwarderConfiguration
    let recorder: Recorder?
    let environmentID: String
    let logger: Logger
    /// nil when no APM Server is configured (record only) or the client could not be built.
    public nonisolated let client: APMServerClient?

    private var agentMetadata: ByteBuffer?
    private var synthesizedMetadata: ByteBuffer?
    private var pending: CircularBuffer<ByteBuffer> = []
    /// Per pending event: its request and whether the invocation's own send must carry it.
    private var pendingOwners: CircularBuffer<(requestID: String?, urgent: Bool)> = []
    /// Pending events the invocation's send must carry: agent data and proxies (not logs and metricsets,
    /// which may ride with the next send).
    private var urgentPending = 0
    private var pendingBytes = 0
    private var pendingSince: NIODeadline?
    private var retry: CircularBuffer<Batch> = []
    private var retryBytes = 0
    private var retryEvents = 0

    private var state: ForwarderState
    private var consecutiveFailures = 0
    private var lastStatus: Int?
    private var lastError: String?
    private var sentEvents = 0
    private var sentBatches = 0
    private var droppedEvents = 0
    private var droppedRequests = 0
    private var inFlightEvents = 0

    private var backgroundTask: Task<Void, Never>?
    /// syncflush: the running invocation's send bound, armed at INVOKE; the agent's flush starts the send at once.
    private var invocationDeadline: NIODeadline?
    /// The send the agent's flush started; the run loop's flush waits for it instead of starting its own.
    private var agentFlushSend: Task<FlushOutcome?, Never>?
    private var probeTask: Task<Void, Never>?
    /// A flush is waiting for the probe and will send the rest itself.
    private var probeAwaited = false
    /// The batch-age timer: on the event loop (LoopTimer), not a Task sleeping on a Dispatch timer.
    private var ageTimer: LoopTimer?
    private let timerLoop: any EventLoop
    private var isShutDown = false
    /// One gzip stream reset per request: deflateInit allocates ~256 KB (fresh pages each time) that a
    /// reset reuses. Only touched between awaits, so actor reentrancy cannot interleave two users.
    private var gzip: ZlibCompressor?
    /// Smaller bodies go uncompressed. Under ~14 KB a body leaves in TCP's first flight either way, so gzip
    /// saves bytes but no time, and deflating them was a tenth of the extension's CPU per invocation; on
    /// Lambda that CPU costs more than the bytes (docs/layer.md, "CPU per invocation").
    static let gzipMinimumBytes = 16 * 1024

    public init(
        configuration: ForwarderConfiguration, recorder: Recorder?, environmentID: String, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.recorder = recorder
        self.environmentID = environmentID
        self.logger = logger
        timerLoop = eventLoopGroup.any()
        var client: APMServerClient?
        var note: (kind: String, detail: String)?
        if let url = configuration.serverURL {
            do {
                client = try APMServerClient(configuration: configuration, serverURL: url, eventLoopGroup: eventLoopGroup)
            } catch {
                note = ("forwarding_disabled", "APM Server client could not be built: \(error)")
            }
        } else {
            note = ("forwarding_disabled", "no APM Server configured (ELASTIC_APM_LAMBDA_APM_SERVER): record only")
        }
        if configuration.caCertACMID != nil {
            logger.warning("ELASTIC_APM_SERVER_CA_CERT_ACM_ID is not supported; use ELASTIC_APM_SERVER_CA_CERT_FILE")
            _ = recorder?.record(.lifecycle(LifecycleEvent(
                environmentID: environmentID, at: epochMicros(), kind: "config_unsupported",
                name: "ELASTIC_APM_SERVER_CA_CERT_ACM_ID", detail: "ACM certificates are not fetched")))
        }
        self.client = client
        self.state = client == nil ? .disabled : .started
        if let note {
            logger.notice("\(note.detail)")
            _ = recorder?.record(.lifecycle(LifecycleEvent(
                environmentID: environmentID, at: epochMicros(), kind: note.kind, name: "forwarder", detail: note.detail)))
        }
    }

    // MARK: - Input

    /// Takes an agent's intake request: caches its metadata and buffers its events. When the buffer is full
    /// the request is dropped and counted (the agent has its 202 already).
    public func enqueue(_ batch: AgentBatch) {
        if let metadata = batch.metadata { agentMetadata = metadata }
        // Last, so the send carries this request's events too.
        defer { if batch.flushed { agentFlushed(requestID: batch.transactions.first?.requestID) } }
        guard client != nil, !isShutDown, !batch.events.isEmpty else { return }
        let bytes = batch.events.reduce(0) { $0 + $1.readableBytes + 1 }
        let requestID = batch.transactions.first?.requestID
        guard makeRoom(events: batch.events.count, bytes: bytes) else {
            droppedRequests += 1
            drop(events: batch.events.count, bytes: bytes, trigger: .intake, requestID: requestID,
                 reason: "buffer full (\(bufferedEvents) events, \(bufferedBytes) bytes held)")
            return
        }
        for line in batch.events {
            pending.append(line)
            pendingOwners.append((requestID, true))
        }
        urgentPending += batch.events.count
        pendingBytes += bytes
        afterAppend()
    }

    /// Takes one event the collector made (proxy transaction, metricset, log). An `urgent` one (a proxy) makes
    /// the invocation's send wait for it; the others go with it when they are there in time, else with the next.
    public func enqueue(event line: ByteBuffer, requestID: String?, urgent: Bool = false) {
        guard client != nil, !isShutDown else { return }
        let bytes = line.readableBytes + 1
        guard makeRoom(events: 1, bytes: bytes) else {
            drop(events: 1, bytes: bytes, trigger: .intake, requestID: requestID, reason: "buffer full")
            return
        }
        pending.append(line)
        pendingOwners.append((requestID, urgent))
        if urgent { urgentPending += 1 }
        pendingBytes += bytes
        afterAppend()
    }

    /// Caches a metadata line (e.g. from a transaction registration) without events.
    public func noteMetadata(_ metadata: ByteBuffer) {
        agentMetadata = metadata
    }

    // MARK: - Output

    /// syncflush: an INVOKE began; until its flush, `bound` limits a send the agent's flush starts.
    public func beginInvocation(bound: NIODeadline) {
        invocationDeadline = bound
    }

    /// The agent said it is done with the invocation: start sending now rather than when the run loop
    /// gets to it. The send then overlaps the runtime's response instead of following it, and the
    /// loop's `flush` waits for it (post-runtime time is what every invocation pays).
    public func agentFlushed(requestID: String?) {
        guard let bound = invocationDeadline, agentFlushSend == nil, client != nil, !isShutDown, bufferedEvents > 0
        else { return }
        invocationDeadline = nil
        let events = bufferedEvents
        agentFlushSend = Task {
            await self.flushBuffered(
                trigger: .invocation, requestID: requestID, deadline: min(bound, .now() + configuration.sendTimeout),
                eventLimit: events)
        }
    }

    /// Sends what is buffered (failed batches first), bounded by `deadline`. Returns nil when there was nothing
    /// to send, `deferred` at once while backing off, otherwise the worst outcome of the sends made.
    public func flush(trigger: FlushTrigger, requestID: String?, deadline: NIODeadline) async -> FlushOutcome? {
        invocationDeadline = nil
        var started: FlushOutcome?
        if let early = agentFlushSend {
            agentFlushSend = nil
            started = await withTaskCancellationHandler { await early.value } onCancel: { early.cancel() }
            // A failed or deferred send has recorded why; a second try now would only be deferred again.
            if let started, started != .sent, trigger != .shutdown { return started }
            // What came during that send is logs and metricsets only: they go with the next send rather
            // than cost this invocation a second round trip.
            if started == .sent, trigger == .invocation, urgentPending == 0, retry.isEmpty { return started }
        }
        guard let rest = await flushBuffered(trigger: trigger, requestID: requestID, deadline: deadline) else {
            return started
        }
        return started.map { worse($0, rest) } ?? rest
    }

    private func flushBuffered(
        trigger: FlushTrigger, requestID: String?, deadline: NIODeadline, eventLimit: Int = .max
    ) async -> FlushOutcome? {
        guard client != nil, bufferedEvents > 0 else { return nil }
        if trigger != .shutdown {
            if case .backingOff(let until) = state {
                if NIODeadline.now() < until {
                    recordDeferred(trigger: trigger, requestID: requestID, reason: "backing off")
                    return .deferred
                }
                state = .failing
            }
            if state == .failing {
                guard startProbe(), await probeSettles(by: min(deadline, .now() + Self.probeWait)), state == .healthy else {
                    recordDeferred(trigger: trigger, requestID: requestID, reason: "APM Server failing; probing in background")
                    return .deferred
                }
                // The server is back: what is left goes now, in this invocation, as after any good send.
            }
        }
        let outcome = await drain(
            trigger: trigger, requestID: requestID, deadline: deadline, stopWhenFailing: true, eventLimit: eventLimit)
        if trigger == .shutdown, bufferedEvents > 0 {
            dropEverything(trigger: .shutdown, reason: "shutdown: APM Server did not take the data in time")
            return .dropped
        }
        return outcome
    }

    /// Managed Instances: no invocation's end asks for a send, so a steady tick does. Failed batches are retried
    /// and a failing server is probed once its grace period is over (in the background; nothing waits on it);
    /// pending events go once they are `maxBatchAge` old. Size still starts a send at once (`afterAppend`).
    public func tick() {
        guard client != nil, !isShutDown, bufferedEvents > 0 else { return }
        switch state {
        case .disabled:
            return
        case .backingOff(let until):
            guard NIODeadline.now() >= until else { return }
            state = .failing
            startProbe()
        case .failing:
            startProbe()
        case .started, .healthy, .rateLimited, .clientFailing:
            if !retry.isEmpty {
                startBackgroundDrain(trigger: .retry)
            } else if let since = pendingSince, NIODeadline.now() - since >= configuration.maxBatchAge {
                startBackgroundDrain(trigger: .age)
            }
        }
    }

    /// The final flush within `deadline`, then stops background work and closes the HTTP client.
    public func shutdown(deadline: NIODeadline) async {
        guard !isShutDown else { return }
        ageTimer?.cancel()
        await settleBackgroundSends(by: deadline)
        _ = await flush(trigger: .shutdown, requestID: nil, deadline: deadline)
        isShutDown = true
        backgroundTask?.cancel()
        probeTask?.cancel()
        await client?.shutdown()
    }

    /// A background send (size, age, probe) still in flight at shutdown finishes first, within the deadline; one that
    /// cannot is cancelled, and its batch comes back to the buffer. Cancelling it only after the final flush (as
    /// before) stranded its batch: neither sent nor counted as dropped (seen on Managed Instances, where every send
    /// is a background one).
    private func settleBackgroundSends(by deadline: NIODeadline) async {
        func running() -> Bool { backgroundTask != nil || probeTask != nil }
        let patience = deadline - .milliseconds(100)
        while running(), NIODeadline.now() < patience { try? await Task.sleep(for: .milliseconds(2)) }
        guard running() else { return }
        backgroundTask?.cancel()
        probeTask?.cancel()
        while running(), NIODeadline.now() < deadline { try? await Task.sleep(for: .milliseconds(2)) }
    }

    /// The transport state and counters.
    public var health: ForwarderHealth {
        ForwarderHealth(
            state: state, consecutiveFailures: consecutiveFailures, lastStatus: lastStatus, lastError: lastError,
            sentEvents: sentEvents, sentBatches: sentBatches, droppedEvents: droppedEvents,
            droppedRequests: droppedRequests, bufferedEvents: bufferedEvents, bufferedBytes: bufferedBytes,
            inFlightEvents: inFlightEvents)
    }

    /// The metadata line the next request would carry.
    public var metadataLine: ByteBuffer { currentMetadata() }

    // MARK: - Buffer

    private var bufferedEvents: Int { pending.count + retryEvents }
    private var bufferedBytes: Int { pendingBytes + retryBytes }

    /// Frees room for new data by dropping the oldest failed batches; false if it still does not fit.
    private func makeRoom(events: Int, bytes: Int) -> Bool {
        func fits() -> Bool {
            bufferedEvents + events <= configuration.retryBufferEvents
                && bufferedBytes + bytes <= configuration.retryBufferBytes
        }
        while !fits(), let oldest = retry.first {
            _ = retry.removeFirst()
            retryBytes -= oldest.bytes
            retryEvents -= oldest.events
            drop(events: oldest.events, bytes: oldest.bytes, trigger: .retry, requestID: oldest.requestID,
                 reason: "retry buffer full: oldest failed batch dropped", attempt: oldest.attempt)
        }
        return fits()
    }

    private func afterAppend() {
        if pendingSince == nil { pendingSince = .now() }
        if pending.count >= configuration.maxBatchEvents || pendingBytes >= configuration.maxBatchBytes {
            startBackgroundDrain(trigger: .size)
        } else if ageTimer == nil {
            ageTimer = LoopTimer(after: configuration.maxBatchAge, on: timerLoop) { [weak self] in
                guard let self else { return }
                Task { await self.ageElapsed() }
            }
        }
    }

    private func ageElapsed() {
        ageTimer = nil
        guard !isShutDown, let since = pendingSince else { return }
        if NIODeadline.now() - since >= configuration.maxBatchAge {
            startBackgroundDrain(trigger: .age)
        } else if !pending.isEmpty {
            afterAppend()
        }
    }

    /// The next batch to send: the oldest failed one, else up to maxBatchEvents/maxBatchBytes pending events.
    private func takeBatch(requestID: String?) -> Batch? {
        if !retry.isEmpty {
            let batch = retry.removeFirst()
            retryBytes -= batch.bytes
            retryEvents -= batch.events
            return batch
        }
        guard !pending.isEmpty else { return nil }
        var lines: [ByteBuffer] = []
        var bytes = 0
        var owners = Set<String?>()
        while let line = pending.first,
            lines.isEmpty
                || (lines.count < configuration.maxBatchEvents && bytes + line.readableBytes + 1 <= configuration.maxBatchBytes)
        {
            _ = pending.removeFirst()
            let owner = pendingOwners.removeFirst()
            owners.insert(owner.requestID)
            if owner.urgent { urgentPending -= 1 }
            lines.append(line)
            bytes += line.readableBytes + 1
        }
        pendingBytes -= bytes
        pendingSince = pending.isEmpty ? nil : .now()
        // A batch names a request id only when all its events belong to that one request.
        let owner = owners.count == 1 ? owners.first! : nil
        return Batch(lines: lines, bytes: bytes, requestID: owner ?? requestID, attempt: 1)
    }

    private func holdForRetry(_ batch: Batch) {
        var batch = batch
        batch.attempt += 1
        retry.prepend(batch)
        retryBytes += batch.bytes
        retryEvents += batch.events
        // A requeued batch may push the total over the bound (new data arrived meanwhile): trim oldest first.
        if bufferedEvents > configuration.retryBufferEvents || bufferedBytes > configuration.retryBufferBytes {
            _ = makeRoom(events: 0, bytes: 0)
        }
    }

    // MARK: - Sending

    /// Sends batches until the buffer is empty (or `eventLimit` events went), the deadline passes, or a send fails.
    private func drain(
        trigger: FlushTrigger, requestID: String?, deadline: NIODeadline, stopWhenFailing: Bool, eventLimit: Int = .max
    ) async -> FlushOutcome? {
        var outcome: FlushOutcome?
        var taken = 0
        while taken < eventLimit, let batch = takeBatch(requestID: requestID) {
            taken += batch.events
            if NIODeadline.now() >= deadline {
                holdRemaining(batch)
                recordDeferred(trigger: trigger, requestID: requestID, reason: "flush deadline reached")
                outcome = worse(outcome, .deferred)
                break
            }
            let result = await send(batch, trigger: trigger, deadline: min(deadline, .now() + configuration.sendTimeout))
            outcome = worse(outcome, result)
            if result != .sent && stopWhenFailing { break }
        }
        return outcome
    }

    /// Puts a batch taken but not sent back at the front (not counted as an attempt).
    private func holdRemaining(_ batch: Batch) {
        var batch = batch
        batch.attempt -= 1
        holdForRetry(batch)
    }

    /// `body` gzipped with the reused stream.
    private func compressed(_ body: ByteBuffer) throws -> ByteBuffer {
        // memoryLevel 5: every reset clears zlib's hash table, 64 KB at the default level 8 (2.6% of the
        // extension's instructions per invocation under callgrind); 8 KB here. Bodies grow by 0-2.5%
        // (1.3 KB: +0%, 8 KB: +0.6%, 1.6 MB of spans: +2.5%, level 1 as before).
        let compressor = try gzip ?? ZlibCompressor(
            algorithm: .gzip, configuration: .init(windowSize: 15, compressionLevel: 1, memoryLevel: 5))
        gzip = compressor
        try compressor.reset()
        var input = body
        var output = ByteBuffer()
        output.reserveCapacity(compressor.maxSize(from: input))
        try compressor.deflate(from: &input, to: &output, flush: .finish)
        return output
    }

    private func send(_ batch: Batch, trigger: FlushTrigger, deadline: NIODeadline) async -> FlushOutcome {
        guard let client else { return .dropped }
        let startedAt = epochMicros()
        let start = NIODeadline.now()
        var body = ByteBuffer()
        body.reserveCapacity(batch.bytes + 1024)
        var metadata = currentMetadata()
        body.writeBuffer(&metadata)
        body.writeInteger(UInt8(ascii: "\n"))
        for var line in batch.lines {
            body.writeBuffer(&line)
            body.writeInteger(UInt8(ascii: "\n"))
        }
        let gzipped = body.readableBytes >= Self.gzipMinimumBytes
        if gzipped {
            do {
                body = try compressed(body)
            } catch {
                gzip = nil
                // Cannot happen with zlib in memory; still never silent.
                record(batch, trigger: trigger, startedAt: startedAt, start: start, status: nil, outcome: .dropped,
                       error: "gzip failed: \(error)")
                droppedEvents += batch.events
                return .dropped
            }
        }
        inFlightEvents += batch.events
        let result = await client.sendIntake(body: body, gzipped: gzipped, deadline: deadline, logger: logger)
        inFlightEvents -= batch.events
        lastStatus = result.status
        lastError = result.error
        let outcome: FlushOutcome
        switch result.status {
        case .some(let status) where (200..<300).contains(status):
            state = .healthy
            consecutiveFailures = 0
            sentEvents += batch.events
            sentBatches += 1
            outcome = .sent
        case .some(429):
            state = .rateLimited
            holdForRetry(batch)
            outcome = .failed
        case .some(413) where batch.events > 1:
            // Too large for the server: retry as two halves.
            state = .clientFailing(status: 413)
            let half = batch.lines.count / 2
            let parts = [Array(batch.lines[half...]), Array(batch.lines[..<half])]
            for lines in parts {
                holdForRetry(Batch(
                    lines: lines, bytes: lines.reduce(0) { $0 + $1.readableBytes + 1 }, requestID: batch.requestID,
                    attempt: batch.attempt))
            }
            outcome = .failed
        case .some(let status) where status == 401 || status == 403 || status >= 500:
            enterBackoff()
            holdForRetry(batch)
            outcome = .failed
        case .some(let status):
            // Other 4xx (400 validation, 413 for one event): sending it again cannot help.
            state = .clientFailing(status: status)
            droppedEvents += batch.events
            outcome = .dropped
        case .none:
            if Task.isCancelled && !result.timedOut {
                holdRemaining(batch)
                outcome = .deferred
            } else {
                enterBackoff()
                holdForRetry(batch)
                outcome = .failed
            }
        }
        if outcome != .sent {
            logger.warning(
                "APM Server send \(outcome.rawValue)",
                metadata: ["status": "\(result.status.map(String.init) ?? "none")", "error": "\(result.error ?? "")",
                           "events": "\(batch.events)", "attempt": "\(batch.attempt)"])
        }
        record(batch, trigger: trigger, startedAt: startedAt, start: start, status: result.status, outcome: outcome,
               error: result.error)
        return outcome
    }

    private func enterBackoff() {
        consecutiveFailures += 1
        let delay = configuration.backoff.delay(afterFailures: consecutiveFailures)
        state = .backingOff(until: .now() + delay)
    }

    /// Sends in the background when a batch is full or old, unless the server is known to be failing.
    private func startBackgroundDrain(trigger: FlushTrigger) {
        guard client != nil, !isShutDown, backgroundTask == nil else { return }
        switch state {
        case .backingOff, .failing, .disabled: return
        default: break
        }
        backgroundTask = Task { [weak self] in
            await self?.backgroundDrain(trigger: trigger)
        }
    }

    private func backgroundDrain(trigger: FlushTrigger) async {
        defer { backgroundTask = nil }
        _ = await drain(
            trigger: trigger, requestID: nil, deadline: .now() + configuration.sendTimeout * 4, stopWhenFailing: true)
    }

    /// After the grace period: one send in the background decides whether the server is back.
    /// How long a flush waits for the probe it started. Lambda freezes the sandbox once the invocation is released,
    /// and a probe left in flight would wait for the next thaw (docs/forwarding.md); a server that is back answers
    /// well within this, a hanging one costs an invocation this much once per grace period.
    static let probeWait: TimeAmount = .milliseconds(100)

    /// Starts a probe unless one runs; true when this call started it.
    @discardableResult
    private func startProbe() -> Bool {
        guard probeTask == nil, !isShutDown else { return false }
        probeTask = Task { [weak self] in
            await self?.probe()
        }
        return true
    }

    /// Waits until the probe has finished or `bound` passes; true when it finished. Meanwhile the probe leaves
    /// what is left to this flush instead of starting a background drain that would race it.
    private func probeSettles(by bound: NIODeadline) async -> Bool {
        probeAwaited = true
        defer { probeAwaited = false }
        while probeTask != nil, NIODeadline.now() < bound {
            try? await Task.sleep(for: .milliseconds(2))
        }
        return probeTask == nil
    }

    private func probe() async {
        defer { probeTask = nil }
        guard let batch = takeBatch(requestID: nil) else { return }
        let outcome = await send(batch, trigger: .retry, deadline: .now() + configuration.sendTimeout)
        if outcome == .sent, bufferedEvents > 0, !probeAwaited { startBackgroundDrain(trigger: .retry) }
    }

    // MARK: - Metadata

    private func currentMetadata() -> ByteBuffer {
        if let agentMetadata { return agentMetadata }
        if let synthesizedMetadata { return synthesizedMetadata }
        let line = APMEvents.metadata(
            functionName: configuration.functionName, functionVersion: configuration.functionVersion,
            memoryMB: configuration.memoryMB, region: configuration.region, runtime: configuration.runtime,
            logStream: configuration.logStream, agentVersion: configuration.collectorVersion)
        synthesizedMetadata = line
        return line
    }

    // MARK: - Records

    private func record(
        _ batch: Batch, trigger: FlushTrigger, startedAt: Int64, start: NIODeadline, status: Int?,
        outcome: FlushOutcome, error: String?
    ) {
        let duration = Double((NIODeadline.now() - start).nanoseconds) / 1_000_000
        _ = recorder?.record(.flush(FlushRecord(
            environmentID: environmentID, requestID: batch.requestID, startedAt: startedAt, trigger: trigger,
            events: batch.events, bytes: batch.bytes, httpStatus: status, outcome: outcome, durationMs: duration,
            attempt: batch.attempt, error: error)))
    }

    private func recordDeferred(trigger: FlushTrigger, requestID: String?, reason: String) {
        _ = recorder?.record(.flush(FlushRecord(
            environmentID: environmentID, requestID: requestID, startedAt: epochMicros(), trigger: trigger,
            events: bufferedEvents, bytes: bufferedBytes, httpStatus: nil, outcome: .deferred, durationMs: 0,
            attempt: 0, error: reason)))
    }

    private func drop(
        events: Int, bytes: Int, trigger: FlushTrigger, requestID: String?, reason: String, attempt: Int = 0
    ) {
        droppedEvents += events
        logger.warning("dropped \(events) APM events: \(reason)")
        _ = recorder?.record(.flush(FlushRecord(
            environmentID: environmentID, requestID: requestID, startedAt: epochMicros(), trigger: trigger,
            events: events, bytes: bytes, httpStatus: nil, outcome: .dropped, durationMs: 0, attempt: attempt,
            error: reason)))
    }

    private func dropEverything(trigger: FlushTrigger, reason: String) {
        while let batch = takeBatch(requestID: nil) {
            drop(events: batch.events, bytes: batch.bytes, trigger: trigger, requestID: batch.requestID, reason: reason,
                 attempt: batch.attempt)
        }
    }
}

/// The worse of two outcomes, for a flush made of several sends.
func worse(_ a: FlushOutcome?, _ b: FlushOutcome) -> FlushOutcome {
    func rank(_ outcome: FlushOutcome) -> Int {
        switch outcome {
        case .sent: 0
        case .deferred: 1
        case .failed: 2
        case .dropped: 3
        }
    }
    guard let a else { return b }
    return rank(a) >= rank(b) ? a : b
}
