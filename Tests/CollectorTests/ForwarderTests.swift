@testable import Collector
import LanternStore
import NIOCore
import Testing

/// The Forwarder against the recording APM Server (real HTTP over loopback), server healthy and misbehaving.
@Suite("Forwarder", .serialized)
struct ForwarderTests {
    static let deadline: TimeAmount = .seconds(5)

    @Test("agent and lambda events go out as ndjson with one metadata line, ApiKey auth, valid schemas")
    func happyPath() async throws {
        try await withRecordingAPMServer { server in
            let forwarder = makeForwarder(serverURL: server.url + "/", apiKey: "key-1", secretToken: "ignored")
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.transaction(id: "t1", requestID: "r1"), Sample.span(id: "s1")]))
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "s2")]))
            await forwarder.enqueue(
                event: APMEvents.metricset(
                    requestID: "r1", timestampMicros: epochMicros(), durationMs: 10, billedDurationMs: 11,
                    memorySizeMB: 128, maxMemoryUsedMB: 50, initDurationMs: 120, timeoutMs: 3000),
                requestID: "r1")
            await forwarder.enqueue(
                event: APMEvents.logEvent(message: #"{"level":"info","msg":"hi"}"#, timestampMicros: epochMicros(), requestID: "r1"),
                requestID: "r1")
            let outcome = await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + Self.deadline)
            #expect(outcome == .sent)
            #expect(await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + Self.deadline) == nil)

            let intake = try await server.intake()
            try #require(intake.count == 1)
            let request = intake[0]
            #expect(request.errors == [])
            #expect(request.eventKeys == ["metadata", "transaction", "span", "span", "metricset", "log"])
            #expect(request.headers["authorization"] == "ApiKey key-1")
            // A small body goes plain (Forwarder.gzipMinimumBytes); a large one gzipped (below).
            #expect(request.headers["content-encoding"] == nil)
            #expect(request.headers["content-type"] == "application/x-ndjson")
            #expect((request.events[0].value["service"] as? [String: Any])?["name"] as? String == "fn-under-test")
            let health = await forwarder.health
            #expect(health.state == .healthy && health.sentEvents == 5 && health.bufferedEvents == 0)
            await forwarder.shutdown(deadline: .now() + .seconds(2))
        }
    }

    @Test("bodies from Forwarder.gzipMinimumBytes up are gzipped; below it they go plain; both arrive whole")
    func gzipFromTheThreshold() async throws {
        try await withRecordingAPMServer { server in
            let forwarder = makeForwarder(serverURL: server.url)
            // 40 spans of ~600 bytes: one request (under maxBatchEvents) of ~24 KB.
            let longName = String(repeating: "SELECT x FROM t; ", count: 24)
            let spans = (0..<40).map { Sample.span(id: "s\($0)").replacingOccurrences(of: #""name":"SELECT""#, with: #""name":"\#(longName)""#) }
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata] + spans))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .sent)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "small")]))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .sent)
            let intake = try await server.intake()
            try #require(intake.count == 2)
            #expect(intake[0].headers["content-encoding"] == "gzip")
            #expect(intake[0].errors == [] && intake[0].events.count == 41)
            #expect(intake[1].headers["content-encoding"] == nil)
            #expect(intake[1].errors == [] && intake[1].events.count == 2)
            await forwarder.shutdown(deadline: .now() + .seconds(2))
        }
    }

    @Test("Bearer auth when only a secret token is set; none when neither")
    func bearerAuth() async throws {
        try await withRecordingAPMServer { server in
            let bearer = makeForwarder(serverURL: server.url, secretToken: "tok")
            await bearer.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a")]))
            #expect(await bearer.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .sent)
            let anonymous = makeForwarder(serverURL: server.url)
            await anonymous.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "b")]))
            #expect(await anonymous.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .sent)
            let intake = try await server.intake()
            #expect(intake.map { $0.headers["authorization"] } == ["Bearer tok", nil])
            await bearer.shutdown(deadline: .now() + .seconds(1))
            await anonymous.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("without agent metadata the forwarder synthesizes one from the Lambda environment instead of dropping")
    func synthesizedMetadata() async throws {
        try await withRecordingAPMServer { server in
            let forwarder = makeForwarder(serverURL: server.url)
            // A body without metadata: its first line is an event and must not be thrown away.
            await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "first"), Sample.span(id: "second")]))
            let registration = try IntakeDecoder.decodeRegistration(
                Sample.body([Sample.transaction(id: "tx")]), requestID: "r", receivedAt: 1)
            await forwarder.enqueue(
                event: APMEvents.proxyTransaction(from: registration, result: "failure", outcome: "failure", durationMs: 5),
                requestID: "r")
            #expect(await forwarder.flush(trigger: .invocation, requestID: "r", deadline: .now() + Self.deadline) == .sent)
            let request = try #require(try await server.intake().first)
            #expect(request.errors == [])
            #expect(request.eventKeys == ["metadata", "span", "span", "transaction"])
            let labels = request.events[0].value["labels"] as? [String: Any]
            #expect(labels?["lantern_synthesized_metadata"] as? Bool == true)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("batches are cut at maxBatchEvents")
    func batching() async throws {
        try await withRecordingAPMServer { server in
            let forwarder = makeForwarder(serverURL: server.url, maxBatchEvents: 4)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata] + (0..<10).map { Sample.span(id: "s\($0)") }))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .sent)
            #expect(try await eventually { try await server.intake().reduce(0) { $0 + $1.events.count - 1 } == 10 })
            let intake = try await server.intake()
            #expect(intake.allSatisfy { $0.events.count <= 5 && $0.eventKeys.first == "metadata" && $0.errors.isEmpty })
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("syncflush: the agent's flush starts the send at once; the run loop's flush waits for it, no second send")
    func agentFlushStartsTheSend() async throws {
        try await withRecordingAPMServer(mode: #"{"delay": 0.3}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url)
            await forwarder.beginInvocation(bound: .now() + Self.deadline)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.transaction(id: "t1", requestID: "r1")]))
            // Not flushed yet: nothing goes out before the agent says it is done.
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await server.intake().isEmpty)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "s1")], flushed: true))
            // The send is under way (the server holds it 0.3 s) before anyone calls `flush`.
            #expect(try await eventually(timeout: .seconds(5)) { await forwarder.health.inFlightEvents == 2 })
            // A function log line arriving during the send waits for the next one: no second round trip now.
            await forwarder.enqueue(
                event: APMEvents.logEvent(message: "late line", timestampMicros: epochMicros(), requestID: "r1"),
                requestID: "r1")
            let outcome = await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + Self.deadline)
            #expect(outcome == .sent)
            let intake = try await server.intake()
            #expect(intake.count == 1)
            #expect(intake.first?.eventKeys == ["metadata", "transaction", "span"])
            #expect(await forwarder.health.bufferedEvents == 1)
            // Disarmed by that flush: the next invocation's data waits for its own INVOKE and flush.
            await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "s2")], flushed: true))
            try await Task.sleep(for: .milliseconds(100))
            #expect(await forwarder.health.inFlightEvents == 0)
            #expect(try await server.intake().count == 1)
            await forwarder.shutdown(deadline: .now() + .seconds(2))
            let last = try await server.intake()
            #expect(last.count == 2)
            #expect(last.last?.eventKeys == ["metadata", "log", "span"])
        }
    }

    @Test("syncflush: a proxy made during the agent-started send is sent before the invocation is released")
    func proxyDuringAgentFlushSend() async throws {
        try await withRecordingAPMServer(mode: #"{"delay": 0.3}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url)
            await forwarder.beginInvocation(bound: .now() + Self.deadline)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "s1")], flushed: true))
            #expect(try await eventually(timeout: .seconds(5)) { await forwarder.health.inFlightEvents == 1 })
            let registration = try IntakeDecoder.decodeRegistration(
                Sample.body([Sample.transaction(id: "tx")]), requestID: "r1", receivedAt: 1)
            await forwarder.forwardProxy(ProxyTransaction(
                registration: registration, result: "failure", outcome: "failure", durationMs: 5, trigger: .runtimeDone))
            #expect(await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + Self.deadline) == .sent)
            let intake = try await server.intake()
            #expect(intake.map(\.eventKeys) == [["metadata", "span"], ["metadata", "transaction"]])
            #expect(await forwarder.health.bufferedEvents == 0)
            await forwarder.shutdown(deadline: .now() + .seconds(2))
        }
    }

    @Test("syncflush, APM Server hanging: the agent-started send fails once by its bound; the loop's flush reports it, not a second try")
    func agentFlushSendHangs() async throws {
        try await withRecordingAPMServer(mode: #"{"hang": true}"#) { server in
            let store = try TestStore()
            let forwarder = makeForwarder(
                serverURL: server.url, backoff: quickBackoff(first: 5), sendTimeout: .seconds(1), recorder: store.recorder)
            await forwarder.beginInvocation(bound: .now() + .milliseconds(300))
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a")], flushed: true))
            let outcome = await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + .seconds(2))
            #expect(outcome == .failed)
            #expect(await forwarder.health.bufferedEvents == 1)
            let flushes = try await store.flushes()
            #expect(flushes.map(\.outcome) == ["failed"])
            await forwarder.shutdown(deadline: .now() + .milliseconds(300))
            await store.close()
        }
    }

    @Test("APM Server down: the first flush fails within its deadline, later ones are deferred at once, data is kept")
    func serverDown() async throws {
        let port = try ServerSocketProbe.bindEphemeral()
        let forwarder = makeForwarder(serverURL: "http://127.0.0.1:\(port)", backoff: quickBackoff(first: 30))
        await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a"), Sample.span(id: "b")]))
        let clock = ContinuousClock()
        let first = await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + .seconds(2))
        #expect(first == .failed)
        var worst = Duration.zero
        for _ in 0..<5 {
            let elapsed = await clock.measure {
                #expect(await forwarder.flush(trigger: .invocation, requestID: "r2", deadline: .now() + .seconds(2)) == .deferred)
            }
            worst = max(worst, elapsed)
        }
        #expect(worst < .milliseconds(500), "a deferred flush must not wait (took \(worst))")
        let health = await forwarder.health
        guard case .backingOff = health.state else { Issue.record("state \(health.state)"); return }
        #expect(health.bufferedEvents == 2 && health.droppedEvents == 0 && health.consecutiveFailures == 1)
        // Shutdown makes a last attempt, then counts what is left as dropped.
        await forwarder.shutdown(deadline: .now() + .seconds(1))
        #expect(await forwarder.health.droppedEvents == 2)
    }

    @Test("APM Server hanging: the flush returns by its deadline, later invocations are not held, recovery drains all")
    func serverHangs() async throws {
        try await withRecordingAPMServer(mode: #"{"hang": true}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url, backoff: quickBackoff(first: 0.3, step: 0.3), sendTimeout: .seconds(1))
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a")]))
            let clock = ContinuousClock()
            let firstTook = await clock.measure {
                #expect(await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + .milliseconds(400)) == .failed)
            }
            #expect(firstTook < .seconds(3), "bounded by the deadline (took \(firstTook))")
            // Invocations while the server hangs: each flush returns at once (deferred; probes run in the background).
            var worst = Duration.zero
            for index in 0..<8 {
                await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "later-\(index)")]))
                let took = await clock.measure {
                    #expect(await forwarder.flush(trigger: .invocation, requestID: "r\(index)", deadline: .now() + .seconds(2)) == .deferred)
                }
                worst = max(worst, took)
                try await Task.sleep(for: .milliseconds(150))
            }
            #expect(worst < .milliseconds(500), "invocations are not held while the server hangs (worst \(worst))")
            // The server comes back: the background probe succeeds and everything drains.
            try await server.setMode("{}")
            let drained = await eventually(timeout: .seconds(20)) {
                _ = await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + .seconds(2))
                return await forwarder.health.bufferedEvents == 0
            }
            #expect(drained)
            let accepted = try await server.intake().filter { $0.status == 202 }
            let spans = Set(accepted.flatMap { $0.events.compactMap { $0.value["id"] as? String } })
            #expect(spans == Set(["a"] + (0..<8).map { "later-\($0)" }))
            #expect(await forwarder.health.state == .healthy)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("5xx / 401 / crash mid-request / 429 then recovery: data retried from the buffer, nothing lost",
          arguments: [#"{"status": 503, "recover_after": 2}"#, #"{"status": 500, "recover_after": 1}"#,
                      #"{"status": 401, "recover_after": 1}"#, #"{"crash": true, "recover_after": 1}"#,
                      #"{"status": 429, "recover_after": 2}"#])
    func failureThenRecovery(mode: String) async throws {
        try await withRecordingAPMServer(mode: mode) { server in
            let forwarder = makeForwarder(serverURL: server.url, backoff: quickBackoff(first: 0.05, step: 0.05))
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "x1"), Sample.span(id: "x2")]))
            #expect(await forwarder.flush(trigger: .invocation, requestID: "r1", deadline: .now() + Self.deadline) == .failed)
            let afterFailure = await forwarder.health
            #expect(afterFailure.bufferedEvents == 2)
            if mode.contains("429") {
                #expect(afterFailure.state == .rateLimited)
            } else {
                #expect(afterFailure.consecutiveFailures == 1)
            }
            await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "x3")]))
            let drained = await eventually(timeout: .seconds(20)) {
                _ = await forwarder.flush(trigger: .invocation, requestID: "r2", deadline: .now() + Self.deadline)
                return await forwarder.health.bufferedEvents == 0
            }
            #expect(drained)
            let accepted = try await server.intake().filter { $0.status == 202 }
            #expect(accepted.allSatisfy { $0.errors.isEmpty })
            let ids = accepted.flatMap { $0.events.compactMap { $0.value["id"] as? String } }
            #expect(ids.sorted() == ["x1", "x2", "x3"])
            let health = await forwarder.health
            #expect(health.state == .healthy && health.droppedEvents == 0 && health.consecutiveFailures == 0)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("Managed Instances: the tick alone sends aged events, retries after a failure and probes a server that comes back")
    func tickSendsWithoutInvocations() async throws {
        try await withRecordingAPMServer(mode: #"{"status": 503, "recover_after": 1}"#) { server in
            let forwarder = makeForwarder(
                serverURL: server.url, backoff: quickBackoff(first: 0.05, step: 0.05), maxBatchAge: .milliseconds(100))
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "m1")]))
            await forwarder.tick()
            #expect(await forwarder.health.sentBatches == 0, "not yet due: younger than maxBatchAge")
            // No flush call from here on: only ticks, as ConcurrentLoop makes them.
            let delivered = await eventually(timeout: .seconds(20)) {
                await forwarder.tick()
                let health = await forwarder.health
                return health.bufferedEvents == 0 && health.sentEvents == 1
            }
            #expect(delivered)
            await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "m2")]))
            let second = await eventually(timeout: .seconds(20)) {
                await forwarder.tick()
                return await forwarder.health.sentEvents == 2
            }
            #expect(second)
            let statuses = try await server.intake().map(\.status)
            #expect(statuses.first == 503 && statuses.filter { $0 == 202 }.count == 2)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("shutdown while a background send is in flight: that batch arrives (or is counted as dropped), never stranded")
    func shutdownWaitsForABackgroundSend() async throws {
        try await withRecordingAPMServer(mode: #"{"delay": 0.4}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url, maxBatchEvents: 2)
            // Two events fill a batch: a size-triggered send starts in the background and takes 400 ms; nothing else is
            // pending, so the final flush itself has nothing to wait for.
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "b1"), Sample.span(id: "b2")]))
            try await Task.sleep(for: .milliseconds(50))
            await forwarder.shutdown(deadline: .now() + .seconds(3))
            let health = await forwarder.health
            let ids = try await server.intake().filter { $0.status == 202 }
                .flatMap { $0.events.compactMap { $0.value["id"] as? String } }
            #expect(ids.sorted() == ["b1", "b2"], "\(health)")
            #expect(health.droppedEvents == 0 && health.bufferedEvents == 0 && health.inFlightEvents == 0)
        }
    }

    @Test("413: the batch is split and retried; a single event the server refuses is dropped and counted")
    func payloadTooLarge() async throws {
        try await withRecordingAPMServer(mode: #"{"status": 413, "recover_after": 1}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata] + (1...4).map { Sample.span(id: "p\($0)") }))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .failed)
            #expect(await forwarder.health.state == .clientFailing(status: 413))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .sent)
            let accepted = try await server.intake().filter { $0.status == 202 }
            #expect(accepted.count == 2)
            #expect(accepted.flatMap { $0.events.compactMap { $0.value["id"] as? String } }.sorted() == ["p1", "p2", "p3", "p4"])

            try await server.setMode(#"{"status": 413}"#)
            await forwarder.enqueue(Sample.agentBatch([Sample.span(id: "huge")]))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .dropped)
            let health = await forwarder.health
            #expect(health.droppedEvents == 1 && health.bufferedEvents == 0)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("400 from the server: the batch is dropped (retrying cannot help) and counted")
    func badRequest() async throws {
        try await withRecordingAPMServer(mode: #"{"status": 400}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a"), Sample.span(id: "b")]))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .dropped)
            let health = await forwarder.health
            #expect(health.droppedEvents == 2 && health.bufferedEvents == 0 && health.lastStatus == 400)
            #expect(health.lastError?.contains("test server answers 400") == true)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("slow APM Server: the send still completes inside the deadline")
    func slowServer() async throws {
        try await withRecordingAPMServer(mode: #"{"delay": 0.5}"#) { server in
            let forwarder = makeForwarder(serverURL: server.url)
            await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "slow")]))
            #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + Self.deadline) == .sent)
            await forwarder.shutdown(deadline: .now() + .seconds(1))
        }
    }

    @Test("the buffer is bounded: beyond it the oldest failed batches and then new requests are dropped and counted")
    func boundedBuffer() async throws {
        let port = try ServerSocketProbe.bindEphemeral()
        let forwarder = makeForwarder(
            serverURL: "http://127.0.0.1:\(port)", backoff: quickBackoff(first: 60), retryBufferEvents: 10)
        await forwarder.enqueue(Sample.agentBatch([Sample.metadata] + (0..<6).map { Sample.span(id: "old\($0)") }))
        #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + .seconds(2)) == .failed)
        for round in 0..<5 {
            await forwarder.enqueue(Sample.agentBatch((0..<3).map { Sample.span(id: "new\(round)-\($0)") }))
        }
        let health = await forwarder.health
        #expect(health.bufferedEvents <= 10)
        // 6 old + 15 new = 21 offered; what is not held was dropped and counted.
        #expect(health.bufferedEvents + health.droppedEvents == 21)
        #expect(health.droppedEvents >= 11 && health.droppedRequests >= 1)
        await forwarder.shutdown(deadline: .now() + .milliseconds(500))
    }

    @Test("record only: no server configured, nothing is buffered or sent")
    func recordOnly() async throws {
        let forwarder = makeForwarder(serverURL: nil)
        await forwarder.enqueue(Sample.agentBatch([Sample.metadata, Sample.span(id: "a")]))
        #expect(await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + .seconds(1)) == nil)
        let health = await forwarder.health
        #expect(health.state == .disabled && health.bufferedEvents == 0)
        #expect(forwarder.client == nil)
        await forwarder.shutdown(deadline: .now() + .seconds(1))
    }
}
