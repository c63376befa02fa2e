import Collector
import LanternStore
import Logging
import NIOCore
import Testing

/// What the forwarder and receiver write to the `flushes` table (a real SQLite store).
@Suite("Flush records", .serialized)
struct FlushRecordTests {
    @Test("503 then recovery: failed, deferred and sent rows say what happened")
    func failureThenRecoveryRows() async throws {
        let store = try TestStore()
        try await withRecordingAPMServer(mode: #"{"status": 503, "recover_after": 1}"#) { server in
            let forwarder = makeForwarder(
                serverURL: server.url, backoff: quickBackoff(first: 0.3, step: 0.3), recorder: store.recorder)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.transaction(id: "t", requestID: "req-1")]))
            #expect(await forwarder.flush(trigger: .invocation, requestID: "req-1", deadline: .now() + .seconds(5)) == .failed)
            #expect(await forwarder.flush(trigger: .invocation, requestID: "req-2", deadline: .now() + .seconds(5)) == .deferred)
            try await Task.sleep(for: .milliseconds(400))
            let drained = await eventually {
                _ = await forwarder.flush(trigger: .invocation, requestID: "req-3", deadline: .now() + .seconds(5))
                return await forwarder.health.bufferedEvents == 0
            }
            #expect(drained)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
        let rows = try await store.flushes()
        let first = try #require(rows.first)
        #expect(first.trigger == "invocation" && first.outcome == "failed" && first.httpStatus == 503)
        #expect(first.events == 1 && first.attempt == 1 && first.requestID == "req-1")
        #expect(first.error?.contains("503") == true)
        #expect(rows.contains { $0.outcome == "deferred" && $0.requestID == "req-2" && $0.events == 1 })
        let sent = try #require(rows.last { $0.outcome == "sent" })
        #expect(sent.httpStatus == 202 && sent.attempt == 2 && sent.trigger == "retry")
        #expect(!rows.contains { $0.outcome == "dropped" })
        await store.close()
    }

    @Test("drops are rows: buffer full, server refusal, shutdown, and bad agent input")
    func dropRows() async throws {
        let store = try TestStore()
        try await withRecordingAPMServer(mode: #"{"status": 400}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url, retryBufferEvents: 3, recorder: store.recorder)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a"), Sample.span(id: "b")]))
            await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "c"), Sample.span(id: "d")]))  // over the bound
            #expect(await forwarder.health.droppedRequests == 1)
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + .seconds(5)) == .dropped)

            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let receiver = AgentReceiver(
                port: 0, forwarder: forwarder, observer: RecordingObserver(),
                configuration: ReceiverConfiguration(maxBodyBytes: 1_000), recorder: store.recorder,
                environmentID: "env-test", logger: logger)
            let port = try await receiver.start()
            let tooBig = ByteBuffer(repeating: UInt8(ascii: "x"), count: 5_000)
            #expect(try await send(port: port, path: "/intake/v2/events", body: tooBig).status == 413)
            #expect(try await send(
                port: port, path: "/intake/v2/events", headers: [("Content-Encoding", "gzip")],
                body: ByteBuffer(string: "plain")).status == 400)
            #expect(try await send(port: port, path: "/intake/v2/events", body: Sample.body([Sample.metadata, "oops"])).status == 400)
            await receiver.stop()

            try await server.setMode(#"{"hang": true}"#)
            await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "e")]))
            await forwarder.shutdown(deadline: .now() + .milliseconds(500))
        }
        let rows = try await store.flushes()
        let dropped = rows.filter { $0.outcome == "dropped" }
        #expect(dropped.contains { $0.trigger == "intake" && $0.events == 2 && $0.error?.contains("buffer full") == true })
        #expect(dropped.contains { $0.trigger == "invocation" && $0.httpStatus == 400 && $0.events == 2 })
        #expect(dropped.contains { $0.trigger == "intake" && $0.error?.contains("exceeds") == true })
        #expect(dropped.contains { $0.trigger == "intake" && $0.error?.contains("gzip") == true })
        #expect(dropped.contains { $0.trigger == "intake" && $0.events == 1 && $0.error?.contains("malformed") == true })
        #expect(dropped.contains { $0.trigger == "shutdown" && $0.events == 1 })
        await store.close()
    }

    @Test("record only: one lifecycle note, no flush rows")
    func recordOnlyNote() async throws {
        let store = try TestStore()
        let forwarder = makeForwarder(serverURL: nil, recorder: store.recorder)
        await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a")]))
        _ = await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + .seconds(1))
        await forwarder.shutdown(deadline: .now() + .seconds(1))
        #expect(try await store.flushes().isEmpty)
        #expect(try await store.lifecycleKinds() == ["forwarding_disabled"])
        await store.close()
    }
}
