@testable import Collector
import Foundation
import LanternStore
import Logging
import NIOCore
import Testing

/// The fleet view's lifecycle events: when each book builds them, what they carry, and that the recording APM
/// Server (Tests/peers/apm_server.py, intake schemas) takes them.
@Suite("Lifecycle forwarding", .serialized)
struct LifecycleForwardingTests {
    static let arn = "arn:aws:lambda:eu-west-1:1:function:fn-under-test"

    // MARK: when the classic book builds the event

    @Test("classic: the event waits for the report that follows the release, and carries every fact")
    func classicWaitsForTheReport() async {
        let forwarding = CollectedForwarding()
        let book = InvocationBook(environmentID: "env-1", recorder: CollectedFacts(), forwarder: forwarding,
                                  lifecycle: forwarding)
        let invokedAt = epochMicros()
        await book.invoke(requestID: "r1", deadlineMs: invokedAt / 1000 + 3_000, functionARN: Self.arn,
                          xrayTraceID: nil, receivedAt: invokedAt)
        await book.agentRegistered(TransactionRegistration(
            requestID: "r1", transactionID: "tx1", traceID: "trace1",
            transaction: ByteBuffer(string: #"{"transaction":{"id":"tx1"}}"#), receivedAt: invokedAt))
        await book.runtimeDone(requestID: "r1", at: invokedAt + 40_000, status: "error", errorType: "Function.Boom",
                               durationMs: 39.5, producedBytes: 10)
        #expect(await book.awaitEnd(of: "r1").reason == .runtimeDone)
        await book.released(requestID: "r1", at: invokedAt + 41_250)
        #expect(await forwarding.invocationFacts.isEmpty, "built before the report came")
        await book.reported(requestID: "r1", at: invokedAt + 45_000, status: "error", errorType: "Function.Boom",
                            durationMs: 44.2, billedDurationMs: 45, memorySizeMB: 128, maxMemoryUsedMB: 61,
                            initDurationMs: 150.5)
        let facts = await forwarding.invocationFacts
        try? #require(facts.count == 1)
        guard let event = facts.first else { return }
        #expect(event.requestID == "r1" && event.invokedAt == invokedAt && event.functionARN == Self.arn)
        #expect(event.coldStart == true && event.status == "error" && event.errorType == "Function.Boom")
        #expect(event.flushReason == .runtimeDone && event.handlerMs == 39.5)
        #expect(event.postRuntimeMs == 1.25 && event.totalMs == 41.25)
        #expect(event.reportDurationMs == 44.2 && event.billedDurationMs == 45 && event.maxMemoryUsedMB == 61)
        #expect(event.initDurationMs == 150.5 && event.inFlight == 1 && event.timeoutMs == 3_000)
        #expect(event.proxy == .runtimeDone && event.transactionID == "tx1" && event.traceID == "trace1")
        // A second report (a retried delivery) does not make a second event.
        await book.reported(requestID: "r1", at: invokedAt + 45_000, status: "error", errorType: nil, durationMs: 44.2,
                            billedDurationMs: 45, memorySizeMB: 128, maxMemoryUsedMB: 61, initDurationMs: nil)
        #expect(await forwarding.invocationFacts.count == 1)
    }

    @Test("classic: without telemetry the event is built at the release; at SHUTDOWN for one never released")
    func classicWithoutTelemetry() async {
        let forwarding = CollectedForwarding()
        let book = InvocationBook(environmentID: "env-1", recorder: nil, forwarder: forwarding, lifecycle: forwarding)
        await book.telemetryUnavailable()
        let now = epochMicros()
        await book.invoke(requestID: "r1", deadlineMs: now / 1000 + 600_000, functionARN: nil, xrayTraceID: nil,
                          receivedAt: now)
        await book.agentSent(AgentBatch(events: [], transactions: [], bytes: 0, flushed: true, receivedAt: now + 5_000))
        _ = await book.awaitEnd(of: "r1")
        await book.released(requestID: "r1", at: now + 6_000)
        #expect(await forwarding.invocationFacts.map(\.flushReason) == [.agent])
        await book.invoke(requestID: "r2", deadlineMs: now / 1000 + 600_000, functionARN: nil, xrayTraceID: nil,
                          receivedAt: now + 10_000)
        _ = await book.shutdown(reason: "spindown", at: now + 20_000, deadlineMs: now / 1000 + 2_000)
        let facts = await forwarding.invocationFacts
        #expect(facts.map(\.requestID) == ["r1", "r2"])
        #expect(facts.last?.flushReason == .shutdown && facts.last?.coldStart == false)
    }

    @Test("LANTERN_FORWARD_LIFECYCLE=false: no lifecycle outlet, no event; the variable is read")
    func switchedOff() async throws {
        let forwarding = CollectedForwarding()
        let book = InvocationBook(environmentID: "env-1", recorder: nil, forwarder: forwarding)
        let now = epochMicros()
        await book.invoke(requestID: "r1", deadlineMs: now / 1000 + 600_000, functionARN: nil, xrayTraceID: nil,
                          receivedAt: now)
        await book.runtimeDone(requestID: "r1", at: now + 1_000, status: "success", errorType: nil, durationMs: 1,
                               producedBytes: nil)
        await book.released(requestID: "r1", at: now + 2_000)
        await book.reported(requestID: "r1", at: now + 3_000, status: "success", errorType: nil, durationMs: 2,
                            billedDurationMs: 2, memorySizeMB: 128, maxMemoryUsedMB: 50, initDurationMs: nil)
        #expect(await forwarding.invocationFacts.isEmpty)
        #expect(await forwarding.reports.count == 1)

        #expect(try CollectorConfig.load(environment: [:], arguments: ["x"]).forwardLifecycle == true)
        let off = try CollectorConfig.load(environment: ["LANTERN_FORWARD_LIFECYCLE": "false"], arguments: ["x"])
        #expect(off.forwardLifecycle == false)
        #expect(throws: ConfigError.self) {
            try CollectorConfig.load(environment: ["LANTERN_FORWARD_LIFECYCLE": "nope"], arguments: ["x"])
        }
    }

    // MARK: Managed Instances

    @Test("Managed Instances: built at the report, with the in-flight count and flush reason report")
    func managedInstancesAtTheReport() async {
        let forwarding = CollectedForwarding()
        let book = ConcurrentBook(environmentID: "env-lmi", recorder: nil, forwarder: forwarding, lifecycle: forwarding)
        let now = epochMicros()
        await book.platformStarted(requestID: "a", at: now, functionARN: Self.arn)
        await book.platformStarted(requestID: "b", at: now + 1_000, functionARN: Self.arn)
        await book.reported(requestID: "b", at: now + 30_000, status: "timeout", errorType: "Sandbox.Timedout",
                            durationMs: 29, billedDurationMs: nil, memorySizeMB: nil, maxMemoryUsedMB: nil,
                            initDurationMs: nil, responseAt: nil)
        var facts = await forwarding.invocationFacts
        #expect(facts.count == 1)
        #expect(facts.first?.requestID == "b" && facts.first?.inFlight == 2 && facts.first?.coldStart == false)
        #expect(facts.first?.flushReason == .report && facts.first?.status == "timeout" && facts.first?.totalMs == 29)
        #expect(facts.first?.postRuntimeMs == nil)
        _ = await book.shutdown(reason: "spindown", at: now + 50_000, deadlineMs: now / 1000 + 2_000)
        facts = await forwarding.invocationFacts
        #expect(facts.map(\.requestID) == ["b", "a"])
        #expect(facts.last?.flushReason == .shutdown && facts.last?.inFlight == 1 && facts.last?.coldStart == true)
    }

    // MARK: on the wire

    @Test("the events reach the APM Server in the same send as the rest, valid against the intake schemas")
    func onTheWire() async throws {
        try await withRecordingAPMServer { server in
            let forwarder = makeForwarder(serverURL: server.url)
            let book = InvocationBook(environmentID: "env-test", recorder: nil, forwarder: forwarder, lifecycle: forwarder)
            let invokedAt = epochMicros()
            await book.invoke(requestID: "r1", deadlineMs: invokedAt / 1000 + 3_000, functionARN: Self.arn,
                              xrayTraceID: nil, receivedAt: invokedAt)
            await book.runtimeDone(requestID: "r1", at: invokedAt + 20_000, status: "success", errorType: nil,
                                   durationMs: 19.75, producedBytes: nil)
            _ = await book.awaitEnd(of: "r1")
            await book.released(requestID: "r1", at: invokedAt + 21_000)
            await book.reported(requestID: "r1", at: invokedAt + 22_000, status: "success", errorType: nil,
                                durationMs: 21.5, billedDurationMs: 22, memorySizeMB: 128, maxMemoryUsedMB: 40,
                                initDurationMs: 99)
            var logger = Logger(label: "test.shutdown")
            logger.logLevel = .error
            await ShutdownSequence(book: book, forwarder: forwarder, recorder: nil, environmentID: "env-test",
                                   telemetry: true, logger: logger)
                .run(reason: "spindown", deadlineMs: epochMicros() / 1000 + 2_000, receivedAt: epochMicros())

            let intake = try await server.intake()
            #expect(intake.allSatisfy { $0.errors.isEmpty }, "\(intake.flatMap(\.errors))")
            // Not a request of their own: the invocation's event rode with the report's metricset.
            let withInvocation = try #require(intake.first { $0.events.contains { Self.kind($0.value) == "invocation" } })
            #expect(withInvocation.eventKeys.contains("metricset"))
            let lifecycle = intake.flatMap(\.events).filter { $0.key == "log" }.map(\.value)
            #expect(lifecycle.map(Self.kind) == ["invocation", "shutdown"])
            let invocation = lifecycle[0]
            #expect(invocation["event.dataset"] as? String == "lantern.lifecycle")
            #expect(invocation["@timestamp"] as? Int64 == invokedAt || (invocation["@timestamp"] as? NSNumber)?.int64Value == invokedAt)
            let faas = try #require(invocation["faas"] as? [String: Any])
            #expect(faas["execution"] as? String == "r1" && faas["name"] as? String == "fn-under-test")
            #expect(faas["id"] as? String == Self.arn && faas["coldstart"] as? Bool == true)
            let labels = try #require(invocation["labels"] as? [String: Any])
            #expect(labels["lantern_environment"] as? String == "env-test")
            #expect(labels["lantern_status"] as? String == "success")
            #expect(labels["lantern_flush_reason"] as? String == "runtimeDone")
            #expect((labels["lantern_handler_ms"] as? NSNumber)?.doubleValue == 19.75)
            #expect((labels["lantern_post_runtime_ms"] as? NSNumber)?.doubleValue == 1)
            #expect((labels["lantern_total_ms"] as? NSNumber)?.doubleValue == 21)
            #expect((labels["lantern_duration_ms"] as? NSNumber)?.doubleValue == 21.5)
            #expect((labels["lantern_in_flight"] as? NSNumber)?.intValue == 1)
            let shutdown = try #require(lifecycle[1]["labels"] as? [String: Any])
            #expect(shutdown["lantern_shutdown_reason"] as? String == "spindown")
            #expect(shutdown["lantern_flush_outcome"] as? String == "sent")
            #expect((shutdown["lantern_pending_invocations"] as? NSNumber)?.intValue == 0)
            #expect(shutdown["lantern_exited_in_ms"] is NSNumber && shutdown["lantern_deadline_in_ms"] is NSNumber)
        }
    }

    static func kind(_ event: [String: Any]) -> String? {
        (event["labels"] as? [String: Any])?["lantern_kind"] as? String
    }
}
