// One agent connection as a plain channel handler: it gathers each request (head, body capped, end), hands the
// complete request to the receiver's async `route`, and writes the answer, one request at a time and in order.
// NIOAsyncChannel did the same through an async sequence per connection; its per-part state machines, generic
// metadata lookups and task hops were a tenth of the extension's instructions per invocation (docs/layer.md).

import NIOCore
import NIOHTTP1

/// Serves one agent connection for an `AgentReceiver`.
final class AgentConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Complete requests queued behind the one being routed before the connection stops reading.
    static let maxQueued = 16

    private let receiver: AgentReceiver
    private let configuration: ReceiverConfiguration
    /// The request whose parts are arriving.
    private var current: AgentReceiver.Request?
    /// A declared body over the cap was refused up front: its bytes are not read, the connection closes.
    private var refusedUpFront = false
    private var readTimeout: Scheduled<Void>?
    private var queue = CircularBuffer<AgentReceiver.Request>()
    private var routing = false
    private var closing = false

    init(receiver: AgentReceiver, configuration: ReceiverConfiguration) {
        self.receiver = receiver
        self.configuration = configuration
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // A body that trickles in (or stops) must not hold the connection and its buffer for ever.
            let channel = context.channel
            readTimeout = context.eventLoop.scheduleTask(in: configuration.readTimeout) { channel.close(promise: nil) }
            var request = AgentReceiver.Request(head: head, body: ByteBuffer(), receivedBytes: 0, tooLarge: false)
            // A declared length over the cap is refused before a byte of the body is read: the agent hears at
            // once, and a 64 MiB or a slow 200 MB upload costs neither memory nor the read timeout.
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init),
               declared > configuration.maxBodyBytes {
                request.tooLarge = true
                request.receivedBytes = declared
                readTimeout?.cancel()
                refusedUpFront = true
                closing = true
                enqueue(request, context: context)
                return
            }
            current = request
        case .body(var chunk):
            guard var request = current else { return }
            current = nil  // uniquely referenced while the chunk is appended
            request.receivedBytes += chunk.readableBytes
            if !request.tooLarge {
                if request.body.readableBytes + chunk.readableBytes > configuration.maxBodyBytes {
                    request.tooLarge = true
                    request.body = ByteBuffer()
                } else {
                    request.body.writeBuffer(&chunk)
                }
            }
            current = request
        case .end:
            guard let request = current else { return }
            current = nil
            readTimeout?.cancel()
            enqueue(request, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        readTimeout?.cancel()
        closing = true
        queue.removeAll()
        context.fireChannelInactive()
    }

    private func enqueue(_ request: AgentReceiver.Request, context: ChannelHandlerContext) {
        queue.append(request)
        if queue.count >= Self.maxQueued { context.channel.setOption(.autoRead, value: false).whenFailure { _ in } }
        routeNext(context: context)
    }

    private func routeNext(context: ChannelHandlerContext) {
        guard !routing, let request = queue.popFirst() else { return }
        routing = true
        if queue.count == Self.maxQueued - 1 { context.channel.setOption(.autoRead, value: true).whenFailure { _ in } }
        let receiver = self.receiver
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { await receiver.route(request) }.whenSuccess { response in
            let (handler, context) = bound.value
            handler.answer(request, with: response, context: context)
        }
    }

    private func answer(_ request: AgentReceiver.Request, with response: AgentReceiver.Response, context: ChannelHandlerContext) {
        routing = false
        guard context.channel.isActive else { return }
        let keepAlive = request.head.isKeepAlive && !response.close && !refusedUpFront
        var response = response
        if refusedUpFront { response.close = true }
        var parts = AgentReceiver.parts(of: response, for: request.head, keepAlive: keepAlive)
        let last = parts.removeLast()
        for part in parts { context.write(wrapOutboundOut(part), promise: nil) }
        let written = context.writeAndFlush(wrapOutboundOut(last))
        if keepAlive {
            routeNext(context: context)
        } else {
            closing = true
            queue.removeAll()
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
