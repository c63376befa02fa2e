import AsyncHTTPClient
@testable import Collector
import LambdaWire
import LanternStore
import Logging
import NIOCore
import NIOPosix
import Testing

/// The telemetry listener over real loopback HTTP, and the router's effect on the book.
@Suite(.serialized) struct TelemetryTests {
    static let delivery = """
    [{"time":"2026-01-10T10:00:00.420Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}},
     {"time":"2026-01-10T10:00:00.431Z","type":"function","record":"[INFO]\\tprocessing order 42\\n"},
     {"time":"2026-01-10T10:00:00.432Z","type":"function","record":{"level":"ERROR","message":"json line"}},
     {"time":"2026-01-10T10:00:00.463Z","type":"platform.runtimeDone","record":{"requestId":"r1","status":"error","errorType":"Runtime.ExitError",
       "spans":[{"name":"responseLatency","start":"2026-01-10T10:00:00.420Z","durationMs":41.9}],
       "metrics":{"durationMs":42.6,"producedBytes":27}}},
     {"time":"2026-01-10T10:00:00.470Z","type":"platform.report","record":{"requestId":"r1","status":"error",
       "metrics":{"durationMs":49.7,"billedDurationMs":50,"memorySizeMB":128,"maxMemoryUsedMB":71,"initDurationMs":312.4}}},
     {"time":"2026-01-10T10:00:00.471Z","type":"platform.logsDropped","record":{"droppedBytes":10,"droppedRecords":2,"reason":"slow"}},
     {"time":"2026-01-10T10:00:00.472Z","type":"platform.somethingNew","record":{"x":1}}]
    """

    func post(_ body: String, to endpoint: TelemetryListener.Endpoint, client: HTTPClient) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://\(endpoint.host):\(endpoint.port)/telemetry")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        let answer = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: answer))
    }

    @Test func listenerAnswersAndStreamsDeliveriesInOrder() async throws {
        let listener = TelemetryListener(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        let endpoint = try await listener.start()
        #expect(endpoint.uri == "http://sandbox.localdomain:\(endpoint.port)/telemetry")
        #expect(endpoint.port > 0)
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            let (status, body) = try await post(Self.delivery, to: endpoint, client: client)
            #expect(status == 200)
            #expect(body == "OK")
            let (second, _) = try await post(#"[{"time":"2026-01-10T10:00:01.000Z","type":"platform.start","record":{"requestId":"r2"}}]"#,
                                             to: endpoint, client: client)
            #expect(second == 200)
            let (bad, message) = try await post("{not json", to: endpoint, client: client)
            #expect(bad == 400)
            #expect(message.contains("not a JSON array"))
            let (huge, _) = try await post("[" + String(repeating: " ", count: TelemetryListener.maxBodyBytes) + "]",
                                           to: endpoint, client: client)
            #expect(huge == 413)
        } catch {
            try? await client.shutdown()
            await listener.stop()
            throw error
        }
        try await client.shutdown()
        await listener.stop()

        var deliveries: [[TelemetryEvent]] = []
        for await delivery in listener.events { deliveries.append(delivery) }
        #expect(deliveries.count == 2, "the bad and the oversized bodies are not delivered")
        #expect(deliveries.first?.count == 7)
        #expect(deliveries.last?.first?.type == "platform.start")
    }

    @Test("deliveries nobody routes are bounded: past the queue the listener answers 503 (Lambda delivers again), nothing queued is lost")
    func unroutedDeliveriesAreBounded() async throws {
        let listener = TelemetryListener(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
        let endpoint = try await listener.start()
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        var statuses: [Int] = []
        do {
            for index in 0..<(TelemetryListener.maxQueuedDeliveries + 3) {
                let body = #"[{"time":"2026-01-10T10:00:01.000Z","type":"platform.start","record":{"requestId":"r\#(index)"}}]"#
                statuses.append(try await post(body, to: endpoint, client: client).0)
            }
        } catch {
            try? await client.shutdown()
            await listener.stop()
            throw error
        }
        try await client.shutdown()
        await listener.stop()
        #expect(Array(statuses.prefix(TelemetryListener.maxQueuedDeliveries)).allSatisfy { $0 == 200 })
        #expect(Array(statuses.suffix(3)) == [503, 503, 503])
        var delivered = 0
        for await _ in listener.events { delivered += 1 }
        #expect(delivered == TelemetryListener.maxQueuedDeliveries)
    }

    @Test func routerAppliesADeliveryToTheBook() async throws {
        let facts = CollectedFacts()
        let forwarding = CollectedForwarding()
        let book = InvocationBook(environmentID: "env", recorder: facts, forwarder: forwarding)
        let router = TelemetryRouter(book: book, recorder: facts, environmentID: "env", forwardLogs: true,
                                     logger: Logger(label: "test"))
        let now = epochMicros()
        await book.invoke(requestID: "r1", deadlineMs: now / 1000 + 60_000, functionARN: "arn:f", xrayTraceID: nil,
                          receivedAt: now)
        await book.agentRegistered(TransactionRegistration(
            requestID: "r1", transactionID: "t1", transaction: ByteBuffer(string: #"{"transaction":{"id":"t1"}}"#),
            receivedAt: now))
        let events = try JSONDecoderForTests.decode([TelemetryEvent].self, Self.delivery)
        await router.apply(events)

        #expect(await book.awaitEnd(of: "r1").reason == .runtimeDone)
        let row = facts.merged("r1")
        #expect(row.startedAt == WireTime.parseEpochMicros("2026-01-10T10:00:00.420Z"))
        #expect(row.runtimeDoneAt == WireTime.parseEpochMicros("2026-01-10T10:00:00.463Z"))
        #expect(row.status == .error)
        #expect(row.errorType == "Runtime.ExitError")
        #expect(row.durationMs == 49.7)
        #expect(row.billedDurationMs == 50)
        #expect(row.logLines == 2)
        #expect(facts.invocationFacts("r1").contains { $0.responseAt == WireTime.parseEpochMicros("2026-01-10T10:00:00.420Z")! + 41_900 })
        #expect(facts.invocationFacts("r1").contains { $0.producedBytes == 27 && $0.runtimeDurationMs == 42.6 })
        #expect(facts.logs.first?.message == "[INFO]\tprocessing order 42")
        // A JSON line is kept as compact JSON (key order is the encoder's).
        #expect(facts.logs.last?.message.hasPrefix("{") == true)
        #expect(facts.logs.last?.message.contains(#""message":"json line""#) == true)
        #expect(facts.logs.map(\.level) == ["info", "error"])
        #expect(facts.lifecycle.contains { $0.kind == "records_dropped" && $0.name == "telemetry" })
        #expect(await forwarding.proxies.first?.result == "error")
        #expect(await forwarding.reports.first?.initDurationMs == 312.4)
        #expect(await forwarding.logs.count == 2)
    }

    @Test func logsAreNotForwardedWhenCaptureIsOff() async throws {
        let facts = CollectedFacts()
        let forwarding = CollectedForwarding()
        let book = InvocationBook(environmentID: "env", recorder: facts, forwarder: forwarding)
        let router = TelemetryRouter(book: book, recorder: facts, environmentID: "env", forwardLogs: false,
                                     logger: Logger(label: "test"))
        await router.apply(try JSONDecoderForTests.decode([TelemetryEvent].self, Self.delivery))
        #expect(await forwarding.logs.isEmpty)
        #expect(facts.logs.count == 2, "the store still keeps them")
    }
}
