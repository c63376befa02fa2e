import FoundationEssentials
import LambdaWire
import Testing

@Suite("Extensions and Runtime API wire types")
struct ExtensionsAPITests {
    @Test func decodesInvokeAndShutdownEvents() throws {
        let invoke = #"""
        {"eventType":"INVOKE","deadlineMs":1795643349172,"requestId":"d08d800b-0855-4493-bee9-aba5113da170",
         "invokedFunctionArn":"arn:aws:lambda:us-east-1:012345678912:function:test_function",
         "tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1"}}
        """#
        let event = try JSONDecoder().decode(ExtensionEvent.self, from: Data(invoke.utf8))
        #expect(event.eventType == .invoke)
        #expect(event.deadlineMs == 1_795_643_349_172)
        #expect(event.requestId == "d08d800b-0855-4493-bee9-aba5113da170")
        #expect(event.tracing?.value.hasPrefix("Root=1-5f35ae12") == true)

        let shutdown = #"{"eventType":"SHUTDOWN","deadlineMs":1795643352396,"shutdownReason":"spindown"}"#
        let s = try JSONDecoder().decode(ExtensionEvent.self, from: Data(shutdown.utf8))
        #expect(s.eventType == .shutdown && s.shutdownReason == .spindown && s.tracing == nil)

        // RIE's own reasons survive as they came.
        let rie = #"{"eventType":"SHUTDOWN","deadlineMs":1795643352396,"shutdownReason":"SandboxTerminated"}"#
        #expect(try JSONDecoder().decode(ExtensionEvent.self, from: Data(rie.utf8)).shutdownReason?.rawValue == "SandboxTerminated")
    }

    @Test func rejectsAnUnknownEventType() {
        let bad = #"{"eventType":"RESTART","deadlineMs":1}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ExtensionEvent.self, from: Data(bad.utf8)) }
    }

    @Test func registerAndSubscriptionBodies() throws {
        let body = try JSONDecoder().decode(RegisterRequest.self, from: Data(#"{"events":["INVOKE","SHUTDOWN"]}"#.utf8))
        #expect(body.events == [.invoke, .shutdown])
        let response = try JSONDecoder().decode(RegisterResponse.self, from: Data(
            #"{"functionName":"f","functionVersion":"$LATEST","handler":"app.handler"}"#.utf8))
        #expect(response.accountId == nil && response.handler == "app.handler")

        let sub = #"""
        {"schemaVersion":"2022-12-13","destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:4243/telemetry"},
         "types":["platform","function","extension"],"buffering":{"maxItems":1000,"maxBytes":262144,"timeoutMs":100}}
        """#
        let s = try JSONDecoder().decode(TelemetrySubscription.self, from: Data(sub.utf8))
        #expect(s.types == [.platform, .function, .extension])
        #expect(s.destination.URI == "http://sandbox.localdomain:4243/telemetry")
        #expect(s.buffering?.validationFailure() == nil)
        #expect(TelemetryBuffering(maxItems: 10).validationFailure()?.contains("maxItems") == true)
        #expect(TelemetryBuffering(timeoutMs: 30_001).validationFailure()?.contains("timeoutMs") == true)
        let effective = TelemetryBuffering().effective
        #expect(effective.maxItems == 10_000 && effective.maxBytes == 262_144 && effective.timeoutMs == 1_000)
    }

    @Test func normalisesErrorTypesAsLambdaDoes() {
        #expect(normalizedErrorType("Runtime.ImportModuleError") == "Runtime.ImportModuleError")
        #expect(normalizedErrorType("Function.MyError") == "Function.MyError")
        #expect(normalizedErrorType("Function.my_error") == "Function.Unknown")
        #expect(normalizedErrorType("Unhandled") == "Runtime.Unknown")
        #expect(normalizedErrorType(nil) == "Runtime.Unknown")
    }

    @Test func wireTimeRoundTrips() {
        #expect(WireTime.format(epochMillis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(WireTime.format(epochMillis: 1_764_107_590_456) == "2025-11-25T21:53:10.456Z")
        #expect(WireTime.parseEpochMicros("2025-11-25T21:53:10.456Z") == 1_764_107_590_456_000)
        #expect(WireTime.parseEpochMicros("2025-11-25T22:53:10.456+01:00") == 1_764_107_590_456_000)
        #expect(WireTime.parseEpochMicros("2025-11-25 21:53") == nil)
        #expect(WireTime.parseEpochMicros("2024-02-29T00:00:00Z").map { WireTime.format(epochMicros: $0) } == "2024-02-29T00:00:00.000Z")
    }
}
