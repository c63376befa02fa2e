@testable import Collector
import LanternStore
import NIOCore
import Testing

/// Managed Instances: invocations open at `platform.start`, close at `platform.report`, several at once; proxies
/// go to the right request; nothing stays behind after a report.
@Suite struct ConcurrentBookTests {
    let facts = CollectedFacts()
    let forwarding = CollectedForwarding()
    let book: ConcurrentBook

    init() {
        book = ConcurrentBook(environmentID: "env-lmi", recorder: facts, forwarder: forwarding)
    }

    func start(_ id: String, at: Int64 = epochMicros()) async {
        await book.platformStarted(requestID: id, at: at, functionARN: "arn:aws:lambda:us-east-1:1:function:f")
    }

    func report(_ id: String, status: String = "success", errorType: String? = nil, durationMs: Double = 12) async {
        await book.reported(
            requestID: id, at: epochMicros(), status: status, errorType: errorType, durationMs: durationMs,
            billedDurationMs: nil, memorySizeMB: nil, maxMemoryUsedMB: nil, initDurationMs: nil,
            responseAt: epochMicros() - 1_000)
    }

    func register(_ id: String, transaction: String) async {
        await book.agentRegistered(TransactionRegistration(
            requestID: id, transactionID: transaction, traceID: "trace-\(transaction)",
            transaction: ByteBuffer(string: #"{"transaction":{"id":"\#(transaction)"}}"#), receivedAt: epochMicros()))
    }

    func agent(_ transactions: [ObservedTransaction], events: Int = 2, flushed: Bool = true) -> AgentBatch {
        AgentBatch(events: Array(repeating: ByteBuffer(string: "{}"), count: events), transactions: transactions,
                   bytes: 64 * events, flushed: flushed, receivedAt: epochMicros())
    }

    @Test func eachInvocationRecordsHowManyWereInFlightWhenItStarted() async {
        await start("a")
        await start("b")
        await start("c")
        await report("b")
        await start("d")
        #expect(facts.merged("a").inFlight == 1)
        #expect(facts.merged("b").inFlight == 2)
        #expect(facts.merged("c").inFlight == 3)
        #expect(facts.merged("d").inFlight == 3, "b had ended: a, c and d")
        #expect(facts.merged("a").coldStart == true)
        #expect(facts.merged("d").coldStart == false)
        #expect(await book.peakInFlight == 3)
        #expect(await book.inFlight == 3)
    }

    @Test func theReportEndsAnInvocationWithItsOwnFlushReason() async {
        await start("a")
        await report("a", status: "error", errorType: "Function.Boom", durationMs: 42)
        let row = facts.merged("a")
        #expect(row.flushReason == .report)
        #expect(row.status == .error)
        #expect(row.errorType == "Function.Boom")
        #expect(row.durationMs == 42)
        #expect(row.responseAt != nil)
        #expect(row.releasedAt == nil, "nothing is released on Managed Instances")
        #expect(row.invokedAt == row.startedAt)
        let reports = await forwarding.reports
        #expect(reports.map(\.requestID) == ["a"])
        #expect(reports.first?.billedDurationMs == nil)
    }

    @Test func aTimedOutInvocationGetsItsProxyAndTheOthersKeepTheirTransactions() async {
        for id in ["a", "b", "c"] {
            await start(id)
            await register(id, transaction: "tx-\(id)")
        }
        // a and c finish with their agents' transactions (one batch may carry several agents' data); b times out.
        await book.agentSent(agent([ObservedTransaction(transactionID: "tx-a", requestID: "a")]))
        await book.agentSent(agent([ObservedTransaction(transactionID: "tx-c", requestID: "c")]))
        await report("a")
        await report("b", status: "timeout", durationMs: 3_000)
        await report("c", status: "error", errorType: "Function.Handled")

        let proxies = await forwarding.proxies
        #expect(proxies.map(\.registration.requestID) == ["b"])
        #expect(proxies.first?.result == "timeout")
        #expect(proxies.first?.durationMs == 3_000)
        #expect(facts.proxies.map(\.trigger) == [.report])
        #expect(facts.merged("a").agentEvents == 2)
        #expect(facts.merged("b").agentEvents == 0)
    }

    @Test func aTransactionNamedOnlyByItsRegisteredIdCountsAsObserved() async {
        await start("a")
        await register("a", transaction: "tx-a")
        await book.agentSent(agent([ObservedTransaction(transactionID: "tx-a", requestID: nil)]))
        await report("a", status: "error")
        #expect(await forwarding.proxies.isEmpty)
    }

    @Test func nothingStaysBehindAfterTheReports() async {
        for round in 0..<2_000 {
            let id = "r\(round)"
            await start(id)
            await register(id, transaction: "tx\(round)")
            await book.agentSent(agent([ObservedTransaction(transactionID: "tx\(round)", requestID: id)]))
            await book.functionLogs([(at: epochMicros(), message: "hello from \(id)")], source: .function, forward: false)
            await report(id)
        }
        let footprint = await book.footprint
        #expect(footprint.open == 0)
        #expect(footprint.transactionOwners == 0)
        #expect(footprint.closed <= ConcurrentBook.closedCapacity)
    }

    @Test func lateAgentDataDoesNotReopenAnInvocation() async {
        await start("a")
        await report("a")
        await register("a", transaction: "late")
        await book.agentSent(agent([ObservedTransaction(transactionID: "late", requestID: "a")]))
        #expect(await book.footprint.open == 0)
        #expect(await book.lateAgentData == 1)
        let summary = await book.shutdown(reason: "spindown", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.proxiesCreated == 0)
    }

    @Test func logLinesGoToTheRequestTheyNameOrTheOnlyOneRunning() async {
        let a = "11111111-2222-3333-4444-555555555555"
        let b = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
        await start(a)
        await book.functionLogs([(at: epochMicros(), message: "alone")], source: .function, forward: true)
        await start(b)
        await book.functionLogs([
            (at: epochMicros(), message: "[INFO]\t2026-12-07T10:00:00.000Z\t\(b)\tfrom b"),
            (at: epochMicros(), message: #"{"level":"INFO","requestId":"\#(a)","message":"from a"}"#),
            (at: epochMicros(), message: "nobody's"),
        ], source: .function, forward: true)
        #expect(facts.logs.map(\.requestID) == [a, b, a, nil])
        #expect(await forwarding.logs.map(\.requestID) == [a, b, a, nil])
        #expect(facts.merged(a).logLines == 2)
        #expect(facts.merged(b).logLines == 1)
    }

    @Test func shutdownClosesEveryOpenInvocationWithItsProxy() async {
        await start("done")
        await report("done")
        await start("running")
        await register("running", transaction: "tx-running")
        await start("quiet")
        let summary = await book.shutdown(reason: "spindown", at: epochMicros(), deadlineMs: epochMicros() / 1000 + 2000)
        #expect(summary.pendingInvocations == 2)
        #expect(summary.proxiesCreated == 1)
        #expect(facts.merged("running").flushReason == .shutdown)
        #expect(facts.merged("quiet").flushReason == .shutdown)
        #expect(facts.merged("done").flushReason == .report)
        #expect(await forwarding.proxies.map(\.result) == ["spindown"])
        #expect(await book.footprint.open == 0)
    }

    @Test func awaitReportsReturnsWhenTheLastOpenInvocationReports() async {
        await start("a")
        let waiter = Task { await book.awaitReports(timeout: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(20))
        await report("a")
        let clock = ContinuousClock()
        let waited = await clock.measure { await waiter.value }
        #expect(waited < .seconds(10))
    }

    @Test func withoutTelemetryTheAgentsFlushClosesTheInvocation() async {
        await book.telemetryUnavailable()
        await register("a", transaction: "tx-a")
        await book.agentSent(agent([ObservedTransaction(transactionID: "tx-a", requestID: "a")]))
        #expect(facts.merged("a").flushReason == .agent)
        #expect(await book.footprint.open == 0)
    }

    @Test func requestIDScanFindsUUIDsOnly() {
        let line = "x 11111111-2222-3333-4444-555555555555 y 1111-22 zzzzzzzz-2222-3333-4444-555555555555"
        #expect(RequestIDScan.candidates(in: line) == ["11111111-2222-3333-4444-555555555555"])
        #expect(RequestIDScan.candidates(in: "short").isEmpty)
    }

    @Test func theModeIsDecidedFromTheEnvironment() {
        #expect(ExecutionMode(initializationType: "on-demand", maxConcurrency: "4") == .classic)
        #expect(ExecutionMode(initializationType: nil, maxConcurrency: nil) == .classic)
        let lmi = ExecutionMode(initializationType: "lambda-managed-instances", maxConcurrency: "8")
        #expect(lmi == .managedInstances(maxConcurrency: 8))
        #expect(lmi.registrationEvents == [.shutdown])
        #expect(lmi.telemetrySchema == "2025-01-29")
        #expect(ExecutionMode(initializationType: "lambda-managed-instances", maxConcurrency: "x")
                == .managedInstances(maxConcurrency: nil))
    }
}
