// The Telemetry API delivers JSON arrays of `{time, type, record}` by POST to a listener inside the
// sandbox. This listener answers fast (Lambda waits for the answer before it sends more), decodes the
// array on the event loop and hands it, in delivery order, to the `TelemetryRouter`.

import LambdaWire
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP listener the Telemetry API delivers to.
public actor TelemetryListener {
    /// Deliveries are at most 2 x maxBytes (1 MiB) plus envelope; anything far bigger is refused.
    static let maxBodyBytes = 4 << 20
    /// Deliveries decoded but not yet routed. Beyond this the listener answers 503 and the Telemetry API delivers
    /// the batch again later: memory stays bounded in a long-lived environment and nothing is lost.
    static let maxQueuedDeliveries = 256

    let group: any EventLoopGroup
    let logger: Logger
    private var channel: (any Channel)?
    private let deliveries: AsyncStream<[TelemetryEvent]>
    private let deliveriesContinuation: AsyncStream<[TelemetryEvent]>.Continuation

    public init(eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.group = eventLoopGroup
        self.logger = logger
        let (stream, continuation) = AsyncStream<[TelemetryEvent]>.makeStream(
            bufferingPolicy: .bufferingOldest(Self.maxQueuedDeliveries))
        self.deliveries = stream
        self.deliveriesContinuation = continuation
    }

    /// Where the listener is bound and the URI to give the Telemetry API.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var uri: String
    }

    /// Binds `sandbox.localdomain`'s address when the hosts file names it, else 127.0.0.1, on an
    /// ephemeral port. The URI always names `sandbox.localdomain`, the only host Lambda delivers to.
    public func start() async throws -> Endpoint {
        let host = SandboxHost.bindAddress()
        let continuation = deliveriesContinuation
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(
                        TelemetryHTTPHandler(deliveries: continuation, logger: logger))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: 0).get()
        self.channel = channel
        let port = channel.localAddress?.port ?? 0
        return Endpoint(host: host, port: port, uri: "http://\(SandboxHost.name):\(port)/telemetry")
    }

    /// The deliveries in arrival order; ends when the listener stops.
    public nonisolated var events: AsyncStream<[TelemetryEvent]> { deliveries }

    /// Closes the listener and ends `events`.
    public func stop() async {
        try? await channel?.close()
        channel = nil
        deliveriesContinuation.finish()
    }
}

/// Finds the address `sandbox.localdomain` stands for, from the hosts file only: a DNS lookup outside
/// Lambda could stall the cold start for seconds.
enum SandboxHost {
    static let name = "sandbox.localdomain"

    static func bindAddress(hostsFile: String = "/etc/hosts") -> String {
        guard let hosts = TextFile.read(hostsFile) else { return "127.0.0.1" }
        return address(in: hosts) ?? "127.0.0.1"
    }

    static func address(in hosts: String) -> String? {
        for line in hosts.split(whereSeparator: \.isNewline) {
            let content = line.prefix { $0 != "#" }
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields.dropFirst().contains(where: { $0 == name || $0 == "sandbox" }) else {
                continue
            }
            let address = String(fields[0])
            if address.contains(".") { return address }
        }
        return nil
    }
}

/// One connection from the Telemetry API: collects each POST body, decodes it, answers.
final class TelemetryHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let deliveries: AsyncStream<[TelemetryEvent]>.Continuation
    let logger: Logger
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    init(deliveries: AsyncStream<[TelemetryEvent]>.Continuation, logger: Logger) {
        self.deliveries = deliveries
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = context.channel.allocator.buffer(capacity: 0)
            self.tooLarge = false
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > TelemetryListener.maxBodyBytes {
                tooLarge = true
                body = nil
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            let (status, message) = handle(head: head)
            respond(context: context, head: head, status: status, message: message)
            self.head = nil
            self.body = nil
        }
    }

    private func handle(head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        guard head.method == .POST || head.method == .PUT else { return (.methodNotAllowed, "POST telemetry here") }
        if tooLarge { return (.payloadTooLarge, "delivery larger than \(TelemetryListener.maxBodyBytes) bytes") }
        guard let body, body.readableBytes > 0 else { return (.ok, "OK") }
        do {
            // Read straight from the parsed tree, not through Codable: the same events or the same refusal
            // (TelemetryEvent+Node.swift), at a fraction of the instructions.
            let events = try TelemetryEvent.decodeBatch(from: body.readableBytesView)
            if case .dropped = deliveries.yield(events) {
                logger.warning("telemetry deliveries are not being routed fast enough; asked for this one again")
                return (.serviceUnavailable, "busy: deliver again")
            }
            return (.ok, "OK")
        } catch {
            // A body that does not decode will not decode when resent either: say so and drop it.
            logger.warning("telemetry delivery is not a JSON array of events: \(error)")
            return (.badRequest, "not a JSON array of telemetry events")
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, message: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: String(message.utf8.count))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: message)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
