// HTTP1Client against real loopback servers: keep-alive reuse, the retry after a server closed an idle
// connection, refused connections, hanging servers, oversized answers and cancellation.

import Collector
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import Testing

@Suite struct HTTPOriginTests {
    @Test func splitsBaseURLs() throws {
        let plain = try #require(HTTPOrigin(url: "http://127.0.0.1:8200"))
        #expect(plain.host == "127.0.0.1" && plain.port == 8200 && plain.pathPrefix == "" && !plain.isTLS)
        #expect(plain.hostHeader == "127.0.0.1:8200")

        let cloud = try #require(HTTPOrigin(url: "HTTPS://apm.example.com/base/path/?x=1"))
        #expect(cloud.isTLS && cloud.port == 443 && cloud.pathPrefix == "/base/path")
        #expect(cloud.hostHeader == "apm.example.com")

        let v6 = try #require(HTTPOrigin(url: "http://[::1]:9000/"))
        #expect(v6.host == "::1" && v6.port == 9000 && v6.hostHeader == "[::1]:9000")
    }

    @Test(arguments: ["apm:8200", "ftp://host", "http://", "http://host:99999", "http://host:x", "http://u:p@host",
                      "http://[::1", "http:/host", "http:host", "://host", "http//host"])
    func refusesWhatIsNotABaseURL(_ url: String) {
        #expect(HTTPOrigin(url: url) == nil)
    }

    @Test("no IP address, IPv6 least of all, is sent as TLS server name (SNI)", arguments: [
        ("https://[2001:db8::abcd]:8200", nil), ("https://[fe80::1%25eth0]/", nil), ("https://[::ffff:7f00:1]", nil),
        ("https://[::1]", nil), ("https://127.0.0.1:8200", nil), ("https://apm.example.com", "apm.example.com"),
        ("https://apm-1.eu-west-1.example.com:443/x", "apm-1.eu-west-1.example.com"),
    ] as [(String, String?)])
    func tlsServerName(_ pair: (url: String, name: String?)) throws {
        let origin = try #require(HTTPOrigin(url: pair.url))
        #expect(origin.tlsServerName == pair.name, "\(pair.url)")
    }
}

@Suite struct HTTP1ClientTests {
    @Test func reusesOneConnectionForSequentialRequests() async throws {
        let server = try await ScriptedServer(behaviour: .answer)
        let client = try server.client()
        for index in 0..<5 {
            let response = try await client.execute(
                HTTP1Request(method: .POST, path: "/intake?n=\(index)", body: ByteBuffer(string: "x")),
                deadline: .now() + .seconds(5))
            #expect(response.status == .accepted)
            #expect(String(buffer: response.body) == "POST /intake?n=\(index) 1")
        }
        #expect(server.connections == 1)
        await client.shutdown()
        await server.close()
    }

    @Test func retriesOnceWhenTheServerClosedTheIdleConnection() async throws {
        let server = try await ScriptedServer(behaviour: .answerThenClose)
        let client = try server.client()
        for _ in 0..<3 {
            let response = try await client.execute(HTTP1Request(method: .GET, path: "/"), deadline: .now() + .seconds(5))
            // The next request goes out at once, often onto the connection the server is closing: it must be
            // retried on a new one rather than fail.
            #expect(response.status == .accepted)
        }
        #expect(server.connections == 3)
        await client.shutdown()
        await server.close()
    }

    @Test func aRequestTheServerDropsOnAReusedConnectionGoesOnceMoreOnANewOne() async throws {
        let server = try await ScriptedServer(behaviour: .dropSecondRequest)
        let client = try server.client()
        for _ in 0..<2 {
            let response = try await client.execute(
                HTTP1Request(method: .POST, path: "/intake", body: ByteBuffer(string: "x")), deadline: .now() + .seconds(5))
            #expect(response.status == .accepted)
        }
        // The second request reached the first connection, which was reset without an answer; the retry used a second.
        #expect(server.connections == 2)
        await client.shutdown()
        await server.close()
    }

    @Test func aRefusedConnectionFailsAsConnectNotAsTimeout() async throws {
        let server = try await ScriptedServer(behaviour: .answer)
        let origin = try #require(HTTPOrigin(url: "http://127.0.0.1:\(server.port)"))
        await server.close()  // nothing listens there now
        let client = try HTTP1Client(origin: origin, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        await #expect(throws: HTTP1ClientError.self) {
            _ = try await client.execute(HTTP1Request(method: .GET, path: "/"), deadline: .now() + .seconds(30))
        }
        do {
            _ = try await client.execute(HTTP1Request(method: .GET, path: "/"), deadline: .now() + .seconds(30))
        } catch {
            #expect(error.code == .connect)
        }
    }

    @Test func aHangingServerTimesOutAtTheDeadline() async throws {
        let server = try await ScriptedServer(behaviour: .hang)
        let client = try server.client()
        do {
            _ = try await client.execute(HTTP1Request(method: .GET, path: "/"), deadline: .now() + .milliseconds(200))
            Issue.record("a hanging server answered")
        } catch {
            #expect(error.code == .timeout)
        }
        await client.shutdown()
        await server.close()
    }

    @Test func anOversizedAnswerIsRefused() async throws {
        let server = try await ScriptedServer(behaviour: .answer)
        let client = try server.client()
        do {
            _ = try await client.execute(
                HTTP1Request(method: .GET, path: "/" + String(repeating: "a", count: 100)),
                deadline: .now() + .seconds(5), maxResponseBytes: 10)
            Issue.record("an oversized answer was accepted")
        } catch {
            #expect(error.code == .responseTooLarge)
        }
        // The client still works afterwards (on a new connection).
        let response = try await client.execute(HTTP1Request(method: .GET, path: "/"), deadline: .now() + .seconds(5))
        #expect(response.status == .accepted)
        await client.shutdown()
        await server.close()
    }

    @Test func cancellationEndsTheWait() async throws {
        let server = try await ScriptedServer(behaviour: .hang)
        let client = try server.client()
        let task = Task {
            try await client.execute(HTTP1Request(method: .GET, path: "/"), deadline: .distantFuture)
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("a cancelled request answered")
        } catch let error as HTTP1ClientError {
            #expect(error.code == .cancelled)
        }
        await client.shutdown()
        await server.close()
    }

    @Test func requestsAfterShutdownFail() async throws {
        let server = try await ScriptedServer(behaviour: .answer)
        let client = try server.client()
        await client.shutdown()
        do {
            _ = try await client.execute(HTTP1Request(method: .GET, path: "/"), deadline: .now() + .seconds(5))
            Issue.record("a shut-down client sent a request")
        } catch {
            #expect(error.code == .shutDown)
        }
        await server.close()
    }
}

/// A loopback HTTP server with one behaviour for every request; counts the connections it accepted.
final class ScriptedServer: Sendable {
    enum Behaviour: Sendable {
        /// 202 with "METHOD URI BODYLENGTH" as the body, keep-alive.
        case answer
        /// The same answer, then the server closes the connection without saying so.
        case answerThenClose
        /// Reads the request and never answers.
        case hang
        /// Answers a connection's first request; resets the connection (RST) on its second without answering,
        /// as a NAT or load balancer that forgot an idle connection does.
        case dropSecondRequest
    }

    private let channel: any Channel
    let port: Int

    /// - Parameter tls: serve https with this context.
    init(behaviour: Behaviour, tls: NIOSSLContext? = nil) async throws {
        let counter = Counter()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counter.value.withLock { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.counter = counter
    }

    private let counter: Counter
    var connections: Int { counter.value.withLock { $0 } }

    func client() throws -> HTTP1Client {
        let origin = try #require(HTTPOrigin(url: "http://127.0.0.1:\(port)"))
        return try HTTP1Client(origin: origin, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    }

    func close() async { try? await channel.close() }

    final class Counter: Sendable {
        let value = Mutex(0)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let behaviour: Behaviour
        var head: HTTPRequestHead?
        var bodyBytes = 0
        var requests = 0

        init(behaviour: Behaviour) { self.behaviour = behaviour }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                bodyBytes = 0
            case .body(let chunk):
                bodyBytes += chunk.readableBytes
            case .end:
                requests += 1
                if behaviour == .dropSecondRequest && requests == 2 {
                    let channel = context.channel
                    // SO_LINGER 0: close sends RST, so the client sees ECONNRESET rather than a clean EOF.
                    guard let provider = channel as? any SocketOptionProvider else { return channel.close(promise: nil) }
                    provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
                    return
                }
                guard let head, behaviour != .hang else { return }
                let text = "\(head.method.rawValue) \(head.uri) \(bodyBytes)"
                var headers = HTTPHeaders()
                headers.add(name: "content-length", value: String(text.utf8.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .accepted,
                                                                     headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
                if behaviour == .answerThenClose {
                    let channel = context.channel
                    written.whenComplete { _ in channel.close(promise: nil) }
                }
            }
        }
    }
}
