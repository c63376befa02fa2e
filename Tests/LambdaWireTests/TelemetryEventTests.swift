import FoundationEssentials
import LambdaWire
import Testing

@Suite("Telemetry events")
struct TelemetryEventTests {
    // The reference's sample delivered array (classic Lambda, one cold invoke).
    static let classicSample = #"""
    [{"time":"2026-01-10T10:00:00.101Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init",
       "runtimeVersion":"python:3.12.v40","runtimeVersionArn":"arn:aws:lambda:us-east-1::runtime:0123abcd","functionName":"orders",
       "functionVersion":"$LATEST","instanceId":"2026/01/10/[$LATEST]8c1f0e2a","instanceMaxMemory":134217728}},
     {"time":"2026-01-10T10:00:00.140Z","type":"platform.telemetrySubscription","record":{"name":"swift-ext","state":"Subscribed","types":["platform","function"]}},
     {"time":"2026-01-10T10:00:00.412Z","type":"platform.initRuntimeDone","record":{"initializationType":"on-demand","phase":"init","status":"success"}},
     {"time":"2026-01-10T10:00:00.412Z","type":"platform.extension","record":{"name":"swift-ext","state":"Ready","events":["INVOKE","SHUTDOWN"]}},
     {"time":"2026-01-10T10:00:00.413Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"success","metrics":{"durationMs":311.8}}},
     {"time":"2026-01-10T10:00:00.420Z","type":"platform.start","record":{"requestId":"5d7a3c1e-2b7f-4c44-9a51-0f6a1c2d3e4f","version":"$LATEST",
       "tracing":{"spanId":"4a1b2c3d4e5f6071","type":"X-Amzn-Trace-Id","value":"Root=1-6781f2a0-1a2b3c4d5e6f708192a3b4c5;Parent=4a1b2c3d4e5f6071;Sampled=1"}}},
     {"time":"2026-01-10T10:00:00.431Z","type":"function","record":"processing order 42\n"},
     {"time":"2026-01-10T10:00:00.463Z","type":"platform.runtimeDone","record":{"requestId":"5d7a3c1e-2b7f-4c44-9a51-0f6a1c2d3e4f","status":"success",
       "tracing":{"spanId":"4a1b2c3d4e5f6071","type":"X-Amzn-Trace-Id","value":"Root=1-6781f2a0-1a2b3c4d5e6f708192a3b4c5;Parent=4a1b2c3d4e5f6071;Sampled=1"},
       "spans":[{"name":"responseLatency","start":"2026-01-10T10:00:00.420Z","durationMs":41.9},{"name":"responseDuration","start":"2026-01-10T10:00:00.462Z","durationMs":0.2}],
       "metrics":{"durationMs":42.6,"producedBytes":27}}},
     {"time":"2026-01-10T10:00:00.470Z","type":"platform.report","record":{"requestId":"5d7a3c1e-2b7f-4c44-9a51-0f6a1c2d3e4f","status":"success",
       "metrics":{"durationMs":49.7,"billedDurationMs":50,"memorySizeMB":128,"maxMemoryUsedMB":71,"initDurationMs":312.4},
       "tracing":{"spanId":"4a1b2c3d4e5f6071","type":"X-Amzn-Trace-Id","value":"Root=1-6781f2a0-1a2b3c4d5e6f708192a3b4c5;Parent=4a1b2c3d4e5f6071;Sampled=1"}}}]
    """#

    // Captured from RIE in LMI mode (schema 2025-01-29, function error).
    static let lmiSample = #"""
    [{"time":"2026-11-25T21:53:10.477Z","type":"platform.start","record":{"requestId":"58b1323c-7d40-4e26-9b8b-225f6b29131b","version":"$LATEST","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:test_function"}},
     {"time":"2026-11-25T21:53:10.478Z","type":"function","record":"function says hello for 58b1323c-7d40-4e26-9b8b-225f6b29131b"},
     {"time":"2026-11-25T21:53:10.479Z","type":"platform.report","record":{"requestId":"58b1323c-7d40-4e26-9b8b-225f6b29131b","status":"error","metrics":{"durationMs":2.321},
      "spans":[{"name":"responseLatency","start":"2026-11-25T21:53:10.477Z","durationMs":1.818},{"name":"responseDuration","start":"2026-11-25T21:53:10.479Z","durationMs":0.171}],"errorType":"Function.MyError"}}]
    """#

    @Test func decodesTheClassicSample() throws {
        let events = try JSONDecoder().decode([TelemetryEvent].self, from: Data(Self.classicSample.utf8))
        #expect(events.map(\.type) == [
            "platform.initStart", "platform.telemetrySubscription", "platform.initRuntimeDone", "platform.extension",
            "platform.initReport", "platform.start", "function", "platform.runtimeDone", "platform.report",
        ])
        guard case .initStart(let initStart) = events[0].record else { Issue.record("not initStart"); return }
        #expect(initStart.initializationType == .onDemand)
        #expect(initStart.phase == .`init`)
        #expect(initStart.instanceMaxMemory == 134_217_728)
        guard case .telemetrySubscription(let sub) = events[1].record else { Issue.record("not subscription"); return }
        #expect(sub.types == ["platform", "function"])
        guard case .extensionState(let ext) = events[3].record else { Issue.record("not extension"); return }
        #expect(ext.state == "Ready" && ext.events == ["INVOKE", "SHUTDOWN"])
        guard case .initReport(let initReport) = events[4].record else { Issue.record("not initReport"); return }
        #expect(initReport.metrics.durationMs == 311.8)
        guard case .function(.text(let line)) = events[6].record else { Issue.record("not a text function line"); return }
        #expect(line == "processing order 42\n")
        #expect(events[6].record.category == .function)
        guard case .runtimeDone(let done) = events[7].record else { Issue.record("not runtimeDone"); return }
        #expect(done.status == .success)
        #expect(done.metrics == RuntimeDoneMetrics(durationMs: 42.6, producedBytes: 27))
        #expect(done.spans?.map(\.name) == ["responseLatency", "responseDuration"])
        #expect(done.tracing?.spanId == "4a1b2c3d4e5f6071")
        guard case .report(let report) = events[8].record else { Issue.record("not report"); return }
        #expect(report.metrics == ReportMetrics(durationMs: 49.7, billedDurationMs: 50, memorySizeMB: 128,
                                                maxMemoryUsedMB: 71, initDurationMs: 312.4))
    }

    @Test func decodesTheLMISample() throws {
        let events = try JSONDecoder().decode([TelemetryEvent].self, from: Data(Self.lmiSample.utf8))
        guard case .start(let start) = events[0].record else { Issue.record("not start"); return }
        #expect(start.functionArn == "arn:aws:lambda:us-east-1:123456789012:function:test_function")
        guard case .report(let report) = events[2].record else { Issue.record("not report"); return }
        #expect(report.status == .error)
        #expect(report.errorType == "Function.MyError")
        #expect(report.metrics.billedDurationMs == nil)
        #expect(report.metrics.durationMs == 2.321)
    }

    @Test func roundTripsEveryRecordKind() throws {
        let records: [TelemetryRecord] = [
            .restoreStart(PlatformRestoreStart(functionName: "f")),
            .restoreRuntimeDone(PlatformRestoreRuntimeDone(status: .failure, errorType: "Runtime.X")),
            .restoreReport(PlatformRestoreReport(status: .success, metrics: DurationMetrics(durationMs: 3))),
            .logsDropped(PlatformLogsDropped(droppedBytes: 10, droppedRecords: 2, reason: "subscriber lagging")),
            .logsSubscription(PlatformSubscription(name: "x", types: ["platform"])),
            .end(PlatformEnd(requestId: "r")),
            .fault("RequestId: r Process exited before completing request"),
            .function(.json(.object(["level": .string("INFO"), "message": .string("hi")]))),
            .extensionLog(.text("ext line")),
            .unknown(type: "platform.somethingNew", record: .object(["a": .number(1)])),
        ]
        for record in records {
            let event = TelemetryEvent(time: "2026-01-10T10:00:00.101Z", record: record)
            let back = try JSONDecoder().decode(TelemetryEvent.self, from: JSONEncoder().encode(event))
            #expect(back == event)
        }
        #expect(TelemetryRecord.extensionLog(.text("x")).category == .extension)
    }

    @Test func rejectsARecordOfTheWrongShape() {
        let bad = #"{"time":"2026-01-10T10:00:00.101Z","type":"platform.report","record":{"requestId":"r"}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TelemetryEvent.self, from: Data(bad.utf8)) }
    }
}
