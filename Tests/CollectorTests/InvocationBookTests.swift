@testable import Collector
import LanternStore
import NIOCore
import Testing

/// The book's decisions: what ends an invocation, late flushes, proxies (never twice), reports.
@Suite struct InvocationBookTests {
    let facts = CollectedFacts()
    let forwarding = CollectedForwarding()
    let book: InvocationBook

    init() {
        book = InvocationBook(environmentID: "env-1", recorder: facts, forwarder: forwarding)
    }

    /// Deadline far away so only the event under test can end the invocation.
    func invoke(_ id: String, deadlineInMs: Int64 = 600_000, trace: String? = nil) async {
        let now = epochMicros()
        await book.invoke(requestID: id, deadlineMs: now / 1000 + deadlineInMs,
                          functionARN: "arn:aws:lambda:us-east-1:1:function:f", xrayTraceID: trace, receivedAt: now)
    }

    func register(_ id: String, transaction: String) async {
        await book.agentRegistered(TransactionRegistration(
            requestID: id, transactionID: transaction, traceID: "trace-\(transaction)",
            transaction: ByteBuffer(string: #"{"transaction":{"id":"\#(transaction)"}}"#), receivedAt: epochMicros()))
    }

    func flush(transactions: [ObservedTransaction] = [], events: Int = 1, bytes: Int = 100) -> AgentBatch {
        AgentBatch(events: Array(repeating: ByteBuffer(string: "{}"), count: events), transactions: transactions,
                   bytes: bytes, flushed: true, receivedAt: epochMicros())
    }

    @Test func agentFlushForTheCurrentRequestEndsIt() async {
        await invoke("r1", trace: "Root=1-abc-def;Parent=1;Sampled=1")
        await book.agentSent(flush(transactions: [ObservedTransaction(transactionID: "t1", requestID: "r1")],
                                   events: 3, bytes: 512))
        let end = await book.awaitEnd(of: "r1")
        #expect(end.reason == .agent)
        await book.released(requestID: "r1", at: epochMicros())

        let row = facts.merged("r1")
        #expect(row.flushReason == .agent)
        #expect(row.agentFlushedAt != nil)
        #expect(row.releasedAt != nil)
        #expect(row.agentEvents == 3)
        #expect(row.agentBytes == 512)
        #expect(row.traceID == "1-abc-def")
        #expect(row.coldStart == true)
        #expect(row.timeoutMs == 600_000)
    }

    @Test func anEmptyFlushEndsTheCurrentRequest() async {
        await invoke("r1")
        await book.agentSent(flush(events: 0, bytes: 0))
        #expect(await book.awaitEnd(of: "r1").reason == .agent)
    }

    @Test func aBatchWithoutFlushedDoesNotEndTheInvocation() async {
        await invoke("r1")
        await book.agentSent(AgentBatch(events: [ByteBuffer(string: "{}")], bytes: 10, flushed: false,
                                        receivedAt: epochMicros()))
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "success", errorType: nil,
                               durationMs: 1.5, producedBytes: 10)
        #expect(await book.awaitEnd(of: "r1").reason == .runtimeDone)
        #expect(facts.merged("r1").agentEvents == 1)
    }

    @Test func lateFlushNamingThePreviousRequestDoesNotEndTheNext() async throws {
        await invoke("r1")
        await register("r1", transaction: "t1")
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "success", errorType: nil,
                               durationMs: nil, producedBytes: nil)
        #expect(await book.awaitEnd(of: "r1").reason == .runtimeDone)
        await book.released(requestID: "r1", at: epochMicros())

        await invoke("r2")
        // r1's flush arrives during r2: named by faas.execution...
        await book.agentSent(flush(transactions: [ObservedTransaction(transactionID: "t1", requestID: "r1")]))
        // ...and by the registered transaction id alone.
        await book.agentSent(flush(transactions: [ObservedTransaction(transactionID: "t1", requestID: nil)]))

        let waiting = Task { await book.awaitEnd(of: "r2") }
        try await Task.sleep(for: .milliseconds(50))
        await book.runtimeDone(requestID: "r2", at: epochMicros(), status: "success", errorType: nil,
                               durationMs: nil, producedBytes: nil)
        let end = await waiting.value
        #expect(end.reason == .runtimeDone, "a late flush of r1 must not end r2")
        #expect(await book.lateFlushes == 2)
        // r1's agent counters went to r1, not r2.
        #expect(facts.merged("r1").agentEvents == 2)
        #expect(facts.merged("r2").agentEvents == 0)
        // r1's transaction arrived after all: no proxy for it at shutdown.
        let summary = await book.shutdown(reason: "spindown", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.proxiesCreated == 0)
    }

    @Test func aFlushThatBeatsTheInvokeEndsItAtOnce() async {
        await book.agentSent(flush(transactions: [ObservedTransaction(transactionID: "t9", requestID: "r9")]))
        await invoke("r9")
        #expect(await book.awaitEnd(of: "r9").reason == .agent)
    }

    @Test func failedRuntimeDoneMakesOneProxyAndShutdownNoSecond() async {
        await invoke("r1")
        await register("r1", transaction: "t1")
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "error", errorType: "Runtime.ExitError",
                               durationMs: 10, producedBytes: 0)
        #expect(await book.awaitEnd(of: "r1").reason == .runtimeDone)
        // A second runtimeDone for the same request (a replayed delivery) makes nothing new.
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "error", errorType: "Runtime.ExitError",
                               durationMs: 10, producedBytes: 0)
        let summary = await book.shutdown(reason: "failure", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.proxiesCreated == 0)

        let proxies = await forwarding.proxies
        #expect(proxies.count == 1)
        #expect(proxies.first?.result == "error")
        #expect(proxies.first?.outcome == "failure")
        #expect(proxies.first?.trigger == .runtimeDone)
        #expect(facts.proxies.count == 1)
        #expect(facts.proxies.first?.transactionID == "t1")
        #expect(facts.proxies.first?.traceID == "trace-t1")
        #expect(facts.merged("r1").status == .error)
        #expect(facts.merged("r1").errorType == "Runtime.ExitError")
    }

    @Test("a long-lived environment keeps bounded state: unforwarded proxies, and owners of never-invoked registrations")
    func stateStaysBounded() async {
        // Registrations naming requests that never get an INVOKE (an agent's stray or replayed calls).
        for index in 0..<(InvocationBook.capacity * 4) {
            await register("ghost-\(index)", transaction: "ghost-tx-\(index)")
        }
        // Failing invocations whose proxies never reach an APM Server (it is down, or there is none).
        for index in 0..<(ProxyLedger.unforwardedCapacity + 50) {
            await invoke("r\(index)")
            await register("r\(index)", transaction: "t\(index)")
            await book.runtimeDone(requestID: "r\(index)", at: epochMicros(), status: "error", errorType: "Runtime.ExitError",
                                   durationMs: 1, producedBytes: 0)
            _ = await book.awaitEnd(of: "r\(index)")
            await book.released(requestID: "r\(index)", at: epochMicros())
        }
        let footprint = await book.footprint
        #expect(footprint.unforwarded == ProxyLedger.unforwardedCapacity)
        #expect(footprint.entries <= InvocationBook.capacity * 2 + 1, "\(footprint)")
        #expect(footprint.transactionOwners <= footprint.entries, "\(footprint)")
        #expect(await forwarding.proxies.count == ProxyLedger.unforwardedCapacity + 50)
    }

    @Test func observedTransactionNeedsNoProxy() async {
        await invoke("r1")
        await register("r1", transaction: "t1")
        await book.agentSent(flush(transactions: [ObservedTransaction(transactionID: "t1", requestID: "r1")]))
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "failure", errorType: nil,
                               durationMs: nil, producedBytes: nil)
        let summary = await book.shutdown(reason: "timeout", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.proxiesCreated == 0)
        #expect(await forwarding.proxies.isEmpty)
    }

    @Test func noRegistrationNoProxy() async {
        await invoke("r1")
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "timeout", errorType: nil,
                               durationMs: nil, producedBytes: nil)
        let summary = await book.shutdown(reason: "timeout", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.proxiesCreated == 0)
        #expect(await forwarding.proxies.isEmpty)
    }

    @Test func successWithoutTheTransactionIsProxiedAtShutdownAsSuccess() async {
        await invoke("r1")
        await register("r1", transaction: "t1")
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "success", errorType: nil,
                               durationMs: nil, producedBytes: nil)
        #expect(await forwarding.proxies.isEmpty, "the agent may still send it late")
        let summary = await book.shutdown(reason: "spindown", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.proxiesCreated == 1)
        #expect(summary.pendingInvocations == 0)
        let proxy = await forwarding.proxies.first
        #expect(proxy?.result == "success")
        #expect(proxy?.outcome == nil)
        #expect(proxy?.trigger == .shutdown)
    }

    @Test func shutdownProxiesWhatNeverFinishedWithTheReason() async {
        await invoke("r1", deadlineInMs: 1000)
        await register("r1", transaction: "t1")
        let summary = await book.shutdown(reason: "timeout", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.pendingInvocations == 1)
        #expect(summary.proxiesCreated == 1)
        let proxy = await forwarding.proxies.first
        #expect(proxy?.result == "timeout")
        #expect(proxy?.outcome == "failure")
        #expect((proxy?.durationMs ?? -1) >= 0)
        #expect(facts.proxies.first?.trigger == .shutdown)
        // And never twice.
        let again = await book.shutdown(reason: "timeout", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(again.proxiesCreated == 0)
        #expect(await forwarding.proxies.count == 1)
    }

    @Test func deadlineEndsTheInvocationBeforeTheDeadlineWithATimeoutProxy() async {
        let start = epochMicros()
        await invoke("r1", deadlineInMs: 400)
        await register("r1", transaction: "t1")
        let end = await book.awaitEnd(of: "r1")
        #expect(end.reason == .timeout)
        // The margin is computed in ms (40 ms for 400 ms left): the timer is due 360 ms after INVOKE, and
        // never fires early (an upper bound would be a timing assertion on a loaded machine).
        #expect(end.at >= start + 360_000 - 2_000)
        let proxy = await forwarding.proxies.first
        #expect(proxy?.result == "timeout")
        #expect(proxy?.trigger == .timeout)
        // The platform's runtimeDone(timeout) that follows makes no second proxy.
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "timeout", errorType: nil,
                               durationMs: nil, producedBytes: nil)
        #expect(await forwarding.proxies.count == 1)
        await book.released(requestID: "r1", at: epochMicros())
        #expect(facts.merged("r1").flushReason == .timeout)
    }

    @Test func aDeadlineAlreadyPastEndsAtOnce() async {
        let now = epochMicros()
        await book.invoke(requestID: "r1", deadlineMs: now / 1000 - 5, functionARN: nil, xrayTraceID: nil, receivedAt: now)
        #expect(await book.awaitEnd(of: "r1").reason == .timeout)
    }

    @Test func cancellingTheWaitEndsItWithShutdown() async throws {
        await invoke("r1")
        let waiting = Task { await book.awaitEnd(of: "r1") }
        try await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        #expect(await waiting.value.reason == .shutdown)
    }

    @Test func reportUpdatesTheInvocationWhenItArrivesLate() async {
        await invoke("r1")
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "success", errorType: nil,
                               durationMs: 4, producedBytes: 2)
        _ = await book.awaitEnd(of: "r1")
        await book.released(requestID: "r1", at: epochMicros())
        await invoke("r2")
        // r1's report arrives while r2 runs.
        await book.reported(requestID: "r1", at: epochMicros(), status: "success", errorType: nil, durationMs: 4.5,
                            billedDurationMs: 5, memorySizeMB: 128, maxMemoryUsedMB: 60, initDurationMs: 300)
        let row = facts.merged("r1")
        #expect(row.durationMs == 4.5)
        #expect(row.billedDurationMs == 5)
        #expect(row.maxMemoryUsedMB == 60)
        let report = await forwarding.reports.first
        #expect(report?.requestID == "r1")
        #expect(report?.coldStart == true)
        #expect(report?.timeoutMs == 600_000)
        #expect(facts.merged("r2").durationMs == nil)
    }

    @Test func awaitReportsReturnsWhenTheLastReportArrives() async throws {
        await invoke("r1")
        let waiting = Task { await book.awaitReports(timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(20))
        await book.reported(requestID: "r1", at: epochMicros(), status: "success", errorType: nil, durationMs: 1,
                            billedDurationMs: 1, memorySizeMB: 128, maxMemoryUsedMB: 1, initDurationMs: nil)
        await waiting.value
        // And is bounded when a report never comes.
        await invoke("r2")
        await book.awaitReports(timeout: .milliseconds(30))
    }

    @Test func functionLogsBelongToTheLastStartedRequest() async {
        await invoke("r1")
        await book.platformStarted(requestID: "r1", at: epochMicros())
        await book.functionLogs([(epochMicros(), "[ERROR]\tboom"), (epochMicros(), #"{"level":"WARNING","msg":"x"}"#),
                                 (epochMicros(), "plain")], source: .function, forward: true)
        #expect(facts.merged("r1").logLines == 3)
        #expect(facts.logs.map(\.level) == ["error", "warn", nil])
        #expect(facts.logs.allSatisfy { $0.requestID == "r1" })
        #expect(await forwarding.logs.count == 3)
        #expect(await forwarding.logs.first?.functionARN == "arn:aws:lambda:us-east-1:1:function:f")
    }

    @Test func onlyTheFirstInvocationIsACcoldStart() async {
        await invoke("r1")
        await invoke("r2")
        #expect(facts.merged("r1").coldStart == true)
        #expect(facts.merged("r2").coldStart == false)
    }

    @Test func proxiesAreStampedWhenForwarded() async {
        await invoke("r1")
        await register("r1", transaction: "t1")
        await book.runtimeDone(requestID: "r1", at: epochMicros(), status: "failure", errorType: nil,
                               durationMs: nil, producedBytes: nil)
        await book.proxiesForwarded(at: 42)
        #expect(facts.proxies.count == 2)
        #expect(facts.proxies.last?.forwardedAt == 42)
        await book.proxiesForwarded(at: 43)
        #expect(facts.proxies.count == 2, "only proxies not yet stamped")
    }
}

@Suite struct DeadlineMarginTests {
    @Test(arguments: [
        (Int64(1_000), Int64(100)), (3_000, 200), (900_000, 200), (300, 30), (100, 20), (30, 15), (1, 0), (0, 0), (-5, 0),
    ])
    func marginInMilliseconds(remaining: Int64, margin: Int64) {
        #expect(DeadlineMargin.milliseconds(remainingMs: remaining) == margin)
    }
}
