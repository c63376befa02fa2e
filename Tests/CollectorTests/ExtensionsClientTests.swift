@testable import Collector
import LambdaWire
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// ExtensionsClient against a loopback Extensions API that answers as Lambda documents.
@Suite(.serialized) struct ExtensionsClientTests {
    let identifier = "8d1e4b9a-2b4f-4f5e-9a51-0f6a1c2d3e4f"

    func withClient<T>(
        _ respond: @escaping LoopbackHTTPServer.Responder,
        _ body: (ExtensionsClient, LoopbackHTTPServer) async throws -> T
    ) async throws -> T {
        let server = try await LoopbackHTTPServer(respond: respond)
        let client = ExtensionsClient(runtimeAPI: server.address, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            let result = try await body(client, server)
            await client.shutdown()
            await server.close()
            return result
        } catch {
            await client.shutdown()
            await server.close()
            throw error
        }
    }

    @Test func registersUnderItsNameForInvokeAndShutdown() async throws {
        let id = identifier
        try await withClient({ _ in
            CannedResponse(status: .ok, headers: [("Lambda-Extension-Identifier", id)],
                           body: #"{"functionName":"orders","functionVersion":"$LATEST","handler":"app.handler"}"#)
        }) { client, server in
            let registration = try await client.register(name: "lantern-extension")
            #expect(registration.identifier == id)
            #expect(registration.response.functionName == "orders")
            let request = try #require(server.requests.first)
            #expect(request.method == .POST)
            #expect(request.uri == "/2020-01-01/extension/register")
            #expect(request.headers.first(name: "Lambda-Extension-Name") == "lantern-extension")
            #expect(request.body == #"{"events":["INVOKE","SHUTDOWN"]}"#)
            #expect(request.headers.first(name: "User-Agent")?.hasPrefix("lantern-extension/") == true)
        }
    }

    @Test func aRefusedRegistrationSaysWhy() async throws {
        try await withClient({ _ in
            CannedResponse(status: .forbidden, body: #"{"errorMessage":"SHUTDOWN: ShutdownEventNotSupportedForInternalExtension","errorType":"Extension.InvalidEventType"}"#)
        }) { client, _ in
            let error = await #expect(throws: ExtensionsAPIError.self) { try await client.register(name: "wrong-name") }
            #expect(error?.code == .unexpectedStatus)
            #expect(error?.status == 403)
            #expect(error?.detail.contains("Extension.InvalidEventType") == true)
        }
    }

    @Test func registrationWithoutIdentifierIsAnError() async throws {
        try await withClient({ _ in
            CannedResponse(status: .ok, body: #"{"functionName":"f","functionVersion":"1","handler":""}"#)
        }) { client, _ in
            let error = await #expect(throws: ExtensionsAPIError.self) { try await client.register(name: "x") }
            #expect(error?.code == .missingIdentifier)
        }
    }

    @Test func unreachableAPIIsATransportError() async throws {
        // Bind and close to get a port nobody listens on.
        let server = try await LoopbackHTTPServer { _ in CannedResponse(status: .ok) }
        let address = server.address
        await server.close()
        let client = ExtensionsClient(runtimeAPI: address, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let error = await #expect(throws: ExtensionsAPIError.self) { try await client.register(name: "x") }
        #expect(error?.code == .transport)
        await client.shutdown()
    }

    @Test func nextDecodesInvokeAndShutdown() async throws {
        let id = identifier
        let served = Counter()
        try await withClient({ request in
            guard request.headers.first(name: "Lambda-Extension-Identifier") == id else {
                return CannedResponse(status: .forbidden, body: #"{"errorMessage":"no id","errorType":"Extension.MissingExtensionIdentifier"}"#)
            }
            if served.next() == 0 {
                return CannedResponse(status: .ok, body: #"{"eventType":"INVOKE","deadlineMs":1795643349172,"requestId":"d08d800b","invokedFunctionArn":"arn:aws:lambda:us-east-1:012345678912:function:f","tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1"}}"#)
            }
            return CannedResponse(status: .ok, body: #"{"eventType":"SHUTDOWN","deadlineMs":1795643352396,"shutdownReason":"spindown"}"#)
        }) { client, server in
            let invoke = try await client.next(identifier: id)
            #expect(invoke.eventType == .invoke)
            #expect(invoke.requestId == "d08d800b")
            #expect(invoke.deadlineMs == 1795643349172)
            #expect(invoke.tracing?.value.hasPrefix("Root=1-5f35ae12") == true)
            let shutdown = try await client.next(identifier: id)
            #expect(shutdown.eventType == .shutdown)
            #expect(shutdown.shutdownReason?.rawValue == "spindown")
            #expect(server.requests.allSatisfy { $0.method == .GET && $0.uri == "/2020-01-01/extension/event/next" })
        }
    }

    @Test func anUndecodableEventIsAnError() async throws {
        try await withClient({ _ in CannedResponse(status: .ok, body: "not json") }) { client, _ in
            let error = await #expect(throws: ExtensionsAPIError.self) { try await client.next(identifier: "x") }
            #expect(error?.code == .undecodableBody)
        }
    }

    @Test func errorsCarryTheErrorTypeHeader() async throws {
        let id = identifier
        try await withClient({ _ in CannedResponse(status: .accepted, body: #"{"status":"OK"}"#) }) { client, server in
            try await client.initError(identifier: id, errorType: "Extension.ConfigError", message: "bad port")
            try await client.exitError(identifier: id, errorType: "Extension.NextFailed", message: "gone")
            let requests = server.requests
            #expect(requests.map(\.uri) == ["/2020-01-01/extension/init/error", "/2020-01-01/extension/exit/error"])
            #expect(requests[0].headers.first(name: "Lambda-Extension-Function-Error-Type") == "Extension.ConfigError")
            #expect(requests[0].headers.first(name: "Lambda-Extension-Identifier") == id)
            #expect(requests[0].body.contains("bad port"))
        }
    }

    @Test func subscriptionAnswers() async throws {
        let status = Counter()
        try await withClient({ _ in
            switch status.next() {
            case 0: return CannedResponse(status: .ok, body: #""OK""#)
            case 1: return CannedResponse(status: .accepted, body: #"{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}"#)
            default: return CannedResponse(status: .badRequest, body: #"{"errorMessage":"buffering.timeoutMs must be between 25 and 30000, got 5","errorType":"ValidationError"}"#)
            }
        }) { client, server in
            let subscription = TelemetrySubscription(
                destination: TelemetryDestination(URI: "http://sandbox.localdomain:4243/telemetry"),
                types: [.platform, .function], buffering: TelemetryBuffering(maxItems: 1000, maxBytes: 262_144, timeoutMs: 25))
            #expect(try await client.subscribe(identifier: "x", subscription: subscription) == .subscribed)
            #expect(try await client.subscribe(identifier: "x", subscription: subscription)
                    == .notSupported(detail: "Telemetry.NotSupported: Telemetry API is not supported"))
            let error = await #expect(throws: ExtensionsAPIError.self) {
                try await client.subscribe(identifier: "x", subscription: subscription)
            }
            #expect(error?.status == 400)
            #expect(error?.detail.contains("ValidationError") == true)
            let first = try #require(server.requests.first)
            #expect(first.method == .PUT)
            #expect(first.uri == "/2022-07-01/telemetry")
            #expect(first.body.contains("sandbox.localdomain:4243"))
            #expect(first.body.contains(#""timeoutMs":25"#))
        }
    }
}

/// A thread-safe call counter for responders.
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { v in defer { v += 1 }; return v } }
}
