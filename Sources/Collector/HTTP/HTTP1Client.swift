// The collector's HTTP client: HTTP/1.1 on SwiftNIO's own codec, keep-alive connections to one origin,
// TLS through NIOSSL when the origin is https. It replaces async-http-client in the extension, whose
// Foundation, HTTP/2 and configuration dependencies tripled the layer's size and RSS, and whose connect
// retries made one refused connection cost a whole send timeout (docs/forwarding.md).

import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// One request to an `HTTP1Client`'s origin.
public struct HTTP1Request: Sendable {
    public var method: HTTPMethod
    /// Path and query, appended to the origin's path prefix.
    public var path: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer?

    public init(method: HTTPMethod, path: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// A complete answer.
public struct HTTP1Response: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// The server keeps the connection open for the next request.
    var keepAlive: Bool
}

/// An HTTP/1.1 client bound to one origin, reusing idle connections.
public final class HTTP1Client: Sendable {
    public let origin: HTTPOrigin
    let group: any EventLoopGroup
    let tlsContext: NIOSSLContext?
    let connectTimeout: TimeAmount
    let maxIdleConnections: Int
    private let pool = Mutex(Pool())

    struct Pool {
        var idle: [Connection] = []
        /// Every open connection, idle or busy, so `shutdown` can close them all.
        var open: [ObjectIdentifier: any Channel] = [:]
        var isShutDown = false
    }

    /// One connection and the handler that collects its answers.
    struct Connection: Sendable {
        var channel: any Channel
        var collector: NIOLoopBound<ResponseCollector>
    }

    /// - Parameter tls: required for an https origin; ignored for http.
    public init(
        origin: HTTPOrigin, tls: TLSConfiguration? = nil, eventLoopGroup: any EventLoopGroup,
        connectTimeout: TimeAmount = .seconds(2), maxIdleConnections: Int = 4
    ) throws {
        self.origin = origin
        self.group = eventLoopGroup
        self.connectTimeout = connectTimeout
        self.maxIdleConnections = maxIdleConnections
        if origin.isTLS {
            self.tlsContext = try NIOSSLContext(configuration: tls ?? .makeClientConfiguration())
        } else {
            self.tlsContext = nil
        }
    }

    /// Sends `request` and waits for the whole answer, until `deadline` or the task's cancellation.
    public func execute(
        _ request: HTTP1Request, deadline: NIODeadline, maxResponseBytes: Int = 1 << 20
    ) async throws(HTTP1ClientError) -> HTTP1Response {
        if let connection = takeIdle() {
            do {
                return try await exchange(request, on: connection, deadline: deadline, maxResponseBytes: maxResponseBytes)
            } catch let error where error.isStaleConnection {
                // The server closed the kept-alive connection before reading this request: once more, fresh.
            }
        }
        let connection = try await connect(deadline: deadline)
        return try await exchange(request, on: connection, deadline: deadline, maxResponseBytes: maxResponseBytes)
    }

    /// Closes every connection; later requests fail with `shutDown`.
    public func shutdown() async {
        let channels = pool.withLock { pool -> [any Channel] in
            pool.isShutDown = true
            pool.idle = []
            return Array(pool.open.values)
        }
        for channel in channels { try? await channel.close() }
    }

    // MARK: - Connections

    private func takeIdle() -> Connection? {
        pool.withLock { pool in
            while let connection = pool.idle.popLast() {
                if connection.channel.isActive { return connection }
            }
            return nil
        }
    }

    private func release(_ connection: Connection, keepAlive: Bool) {
        let keep = keepAlive && pool.withLock { pool in
            guard !pool.isShutDown, pool.idle.count < maxIdleConnections else { return false }
            pool.idle.append(connection)
            return true
        }
        if !keep { connection.channel.close(promise: nil) }
    }

    private func connect(deadline: NIODeadline) async throws(HTTP1ClientError) -> Connection {
        if pool.withLock({ $0.isShutDown }) { throw HTTP1ClientError(.shutDown, "the client was shut down") }
        let left = deadline - .now()
        guard left > .zero else { throw HTTP1ClientError(.timeout, "no time left to connect to \(origin)") }
        let origin = self.origin
        let tlsContext = self.tlsContext
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(min(connectTimeout, left))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        let connection: Connection
        do {
            connection = try await bootstrap.connect(host: origin.host, port: origin.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tlsContext {
                        try pipeline.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: origin.tlsServerName))
                    }
                    try pipeline.addHTTPClientHandlers()
                    let collector = ResponseCollector()
                    try pipeline.addHandler(collector)
                    return Connection(channel: channel, collector: NIOLoopBound(collector, eventLoop: channel.eventLoop))
                }
            }
        } catch {
            if case .connectTimeout = error as? ChannelError {
                throw HTTP1ClientError(.timeout, "connecting to \(origin) timed out")
            }
            throw HTTP1ClientError(.connect, "cannot connect to \(origin): \(error)")
        }
        let id = ObjectIdentifier(connection.channel)
        let accepted = pool.withLock { pool in
            guard !pool.isShutDown else { return false }
            pool.open[id] = connection.channel
            return true
        }
        guard accepted else {
            connection.channel.close(promise: nil)
            throw HTTP1ClientError(.shutDown, "the client was shut down")
        }
        connection.channel.closeFuture.whenComplete { _ in
            _ = self.pool.withLock { $0.open.removeValue(forKey: id) }
        }
        return connection
    }

    // MARK: - One exchange

    private func exchange(
        _ request: HTTP1Request, on connection: Connection, deadline: NIODeadline, maxResponseBytes: Int
    ) async throws(HTTP1ClientError) -> HTTP1Response {
        let channel = connection.channel
        let collector = connection.collector
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTP1Response.self)

        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: origin.pathPrefix + request.path)
        head.headers = request.headers
        head.headers.replaceOrAdd(name: "host", value: origin.hostHeader)
        let body = request.body
        if let body {
            head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        } else if request.method == .POST || request.method == .PUT || request.method == .PATCH {
            head.headers.replaceOrAdd(name: "content-length", value: "0")
        }
        let requestHead = head

        loop.execute {
            collector.value.start(promise, maxBytes: maxResponseBytes)
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { error in
                collector.value.fail(HTTP1ClientError(.connectionClosed, "sending failed: \(error)"))
            }
        }
        let timer: Scheduled<Void>? = deadline == .distantFuture ? nil : loop.scheduleTask(deadline: deadline) {
            collector.value.fail(HTTP1ClientError(.timeout, "no complete answer from \(self.origin) in time"))
            channel.close(promise: nil)
        }
        defer { timer?.cancel() }

        let response: HTTP1Response
        do {
            response = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                loop.execute {
                    collector.value.fail(HTTP1ClientError(.cancelled, "the request was cancelled"))
                    channel.close(promise: nil)
                }
            }
        } catch {
            channel.close(promise: nil)
            throw (error as? HTTP1ClientError) ?? HTTP1ClientError(.connectionClosed, "\(error)")
        }
        release(connection, keepAlive: response.keepAlive)
        return response
    }
}
