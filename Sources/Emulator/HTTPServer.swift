import NIOCore
import NIOHTTP1
import NIOPosix

/// One request as the emulator's routes see it: the whole body (up to a limit) in one buffer.
struct HTTPRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    /// Bytes the client sent, even when more than the limit.
    var bodyBytes: Int
    /// The body was over the limit and has been dropped.
    var bodyTooLarge: Bool
    var trailers: HTTPHeaders?

    var method: HTTPMethod { head.method }
    var headers: HTTPHeaders { head.headers }
    /// The path without the query string.
    var path: String {
        let uri = head.uri
        if let q = uri.firstIndex(of: "?") { return String(uri[..<q]) }
        return uri
    }
}

/// One reply.
struct HTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer?

    init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON reply with `Content-Type: application/json`.
    static func json(_ status: HTTPResponseStatus, _ bytes: [UInt8], headers: HTTPHeaders = [:]) -> HTTPResponse {
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: h, body: ByteBuffer(bytes: bytes))
    }
}

/// A small HTTP/1.1 server on SwiftNIO: one task per connection, requests answered in order, no idle timeout
/// (the Runtime and Extensions APIs long-poll), keep-alive and one-shot connections both work.
final class HTTPServer: Sendable {
    typealias Responder = @Sendable (HTTPRequest) async -> HTTPResponse

    private let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    /// The address actually bound (port 0 resolved).
    let localAddress: ListenAddress

    private init(
        channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>,
        localAddress: ListenAddress
    ) {
        self.channel = channel
        self.localAddress = localAddress
    }

    /// Binds `address`; call `serve` to answer requests.
    static func bind(_ address: ListenAddress, group: any EventLoopGroup) async throws -> HTTPServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: address.host, port: address.port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: child)
                }
            }
        let port = channel.channel.localAddress?.port ?? address.port
        return HTTPServer(channel: channel, localAddress: ListenAddress(host: address.host, port: port))
    }

    /// Accepts connections until the task is cancelled or the server is closed.
    func serve(bodyLimit: Int, responder: @escaping Responder) async {
        await withDiscardingTaskGroup { group in
            do {
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await Self.handle(connection, bodyLimit: bodyLimit, responder: responder) }
                    }
                }
            } catch {
                // The listener closed (shutdown or cancellation): nothing left to accept.
            }
            group.cancelAll()
        }
    }

    /// Stops accepting connections.
    func close() async {
        try? await channel.channel.close()
    }

    private static func handle(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, bodyLimit: Int,
        responder: Responder
    ) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var count = 0
                var tooLarge = false
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        body = ByteBuffer()
                        count = 0
                        tooLarge = false
                    case .body(var chunk):
                        count += chunk.readableBytes
                        if count > bodyLimit {
                            // Keep reading so the client gets its answer, but stop holding the bytes.
                            tooLarge = true
                            body = ByteBuffer()
                        } else {
                            body.writeBuffer(&chunk)
                        }
                    case .end(let trailers):
                        guard let requestHead = head else { continue }
                        let request = HTTPRequest(head: requestHead, body: body, bodyBytes: count, bodyTooLarge: tooLarge, trailers: trailers)
                        let response = await responder(request)
                        let keepAlive = requestHead.isKeepAlive
                        var headers = response.headers
                        headers.replaceOrAdd(name: "Content-Length", value: String(response.body?.readableBytes ?? 0))
                        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                        try await outbound.write(.head(HTTPResponseHead(version: requestHead.version, status: response.status, headers: headers)))
                        if let b = response.body, b.readableBytes > 0 { try await outbound.write(.body(.byteBuffer(b))) }
                        try await outbound.write(.end(nil))
                        head = nil
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            // The peer went away (a killed child, a test closing early): nothing to answer.
        }
    }
}
