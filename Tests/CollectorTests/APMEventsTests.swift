import Collector
import Foundation
import NIOCore
import Testing

@Suite("APM events")
struct APMEventsTests {
    func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test("a proxy transaction keeps the agent's fields and sets result, outcome and duration")
    func proxyTransaction() throws {
        let registration = try IntakeDecoder.decodeRegistration(
            Sample.body([Sample.metadata, Sample.transaction(id: "tx-1")]), requestID: "req-7", receivedAt: 1)
        let line = APMEvents.proxyTransaction(
            from: registration, result: "timeout", outcome: APMEvents.proxyOutcome(status: "timeout"), durationMs: 1234.5)
        let transaction = try #require(try object(line)["transaction"] as? [String: Any])
        #expect(transaction["id"] as? String == "tx-1")
        #expect(transaction["name"] as? String == "handler")
        #expect(transaction["result"] as? String == "timeout")
        #expect(transaction["outcome"] as? String == "failure")
        #expect(transaction["duration"] as? Double == 1234.5)
        #expect((transaction["faas"] as? [String: Any])?["execution"] as? String == "req-7")
        // success keeps whatever outcome the agent set
        #expect(APMEvents.proxyOutcome(status: "success") == nil)
    }

    @Test("platform.report becomes Elastic's faas metricset")
    func metricset() throws {
        let line = APMEvents.metricset(
            requestID: "req-1", timestampMicros: 1_764_115_200_000_000, durationMs: 59.9, billedDurationMs: 60,
            memorySizeMB: 128, maxMemoryUsedMB: 60, initDurationMs: 500, timeoutMs: 5000,
            functionARN: "arn:aws:lambda:eu-west-1:123:function:fn")
        let text = String(buffer: line)
        #expect(text.contains(#""timestamp":1764115200000000"#), "timestamps stay integers")
        let metricset = try #require(try object(line)["metricset"] as? [String: Any])
        let samples = try #require(metricset["samples"] as? [String: [String: Any]])
        #expect(samples["faas.duration"]?["value"] as? Double == 59.9)
        #expect(samples["faas.billed_duration"]?["value"] as? Double == 60)
        #expect(samples["faas.coldstart_duration"]?["value"] as? Double == 500)
        #expect(samples["faas.timeout"]?["value"] as? Double == 5000)
        #expect(samples["system.memory.total"]?["value"] as? Double == 134_217_728)
        #expect(samples["system.memory.actual.free"]?["value"] as? Double == 71_303_168)
        let faas = try #require(metricset["faas"] as? [String: Any])
        #expect(faas["coldstart"] as? Bool == true)
        #expect(faas["execution"] as? String == "req-1")
        #expect(faas["id"] as? String == "arn:aws:lambda:eu-west-1:123:function:fn")
    }

    @Test("log lines: level from JSON or the [LEVEL] prefix, trace ids when present")
    func logEvents() throws {
        let json = #"{"level":"WARNING","message":"slow","trace.id":"abc","transaction":{"id":"tx"}}"#
        let line = APMEvents.logEvent(message: json, timestampMicros: 5, requestID: "req-2", functionARN: "arn:x")
        let log = try #require(try object(line)["log"] as? [String: Any])
        #expect(log["message"] as? String == json)
        #expect(log["log.level"] as? String == "warning")
        #expect(log["trace.id"] as? String == "abc")
        #expect(log["transaction.id"] as? String == "tx")
        #expect(log["@timestamp"] as? Int == 5)
        #expect((log["faas"] as? [String: Any])?["execution"] as? String == "req-2")

        #expect(APMEvents.logFields(of: "[ERROR]\t2026-11-25T00:00:00Z\treq\tboom").level == "error")
        #expect(APMEvents.logFields(of: "plain text line").level == nil)
        #expect(APMEvents.logFields(of: "{not json").level == nil)
    }

    @Test("synthesized metadata names the function as the service")
    func metadata() throws {
        let line = APMEvents.metadata(
            functionName: "my.func", functionVersion: "3", memoryMB: 256, region: "us-east-1", runtime: "python3.12",
            logStream: nil, agentVersion: "0.1.0")
        let metadata = try #require(try object(line)["metadata"] as? [String: Any])
        let service = try #require(metadata["service"] as? [String: Any])
        #expect(service["name"] as? String == "my_func")
        #expect((service["agent"] as? [String: Any])?["name"] as? String == "lantern")
        #expect((metadata["cloud"] as? [String: Any])?["region"] as? String == "us-east-1")
    }

    @Test("Elastic's backoff: 0–5 s first, then n² s within 10 %")
    func backoff() {
        let policy = BackoffPolicy.elastic
        for _ in 0..<50 {
            let first = policy.delay(afterFailures: 1)
            #expect(first >= .zero && first <= .seconds(5))
        }
        for (failures, base) in [(2, 1.0), (3, 4.0), (4, 9.0), (5, 16.0), (6, 25.0), (7, 36.0), (8, 36.0), (20, 36.0)] {
            let seconds = Double(policy.delay(afterFailures: failures).nanoseconds) / 1e9
            #expect(seconds >= base * 0.9 - 1e-6 && seconds <= base * 1.1 + 1e-6, "\(failures) failures: \(seconds) s")
        }
    }
}
