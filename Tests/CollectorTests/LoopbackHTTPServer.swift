// A tiny HTTP server on loopback that answers from a closure and remembers what it was asked.
// Unit tests of ExtensionsClient use it as the Extensions API; end-to-end tests use the real emulator.

import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One request the server received.
struct ReceivedRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: String
}

/// What the server answers.
struct CannedResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: [(String, String)] = []
    var body: String = ""
}

final class LoopbackHTTPServer: Sendable {
    typealias Responder = @Sendable (ReceivedRequest) -> CannedResponse

    private let channel: any Channel
    private let received = Mutex<[ReceivedRequest]>([])
    let port: Int

    init(respond: @escaping Responder) async throws {
        let box = Box()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(respond: respond, box: box))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.server.withLock { $0 = self }
    }

    var requests: [ReceivedRequest] { received.withLock { $0 } }
    var address: String { "127.0.0.1:\(port)" }

    func close() async {
        try? await channel.close()
    }

    fileprivate func remember(_ request: ReceivedRequest) {
        received.withLock { $0.append(request) }
    }

    /// Lets handlers reach the server created after the bootstrap was configured.
    fileprivate final class Box: Sendable {
        let server = Mutex<LoopbackHTTPServer?>(nil)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let respond: Responder
        let box: Box
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(respond: @escaping Responder, box: Box) {
            self.respond = respond
            self.box = box
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var chunk):
                body.writeBuffer(&chunk)
            case .end:
                guard let head else { return }
                let request = ReceivedRequest(method: head.method, uri: head.uri, headers: head.headers,
                                              body: String(buffer: body))
                box.server.withLock { $0 }?.remember(request)
                let answer = respond(request)
                var headers = HTTPHeaders(answer.headers)
                headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.utf8.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: answer.status,
                                                                     headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
