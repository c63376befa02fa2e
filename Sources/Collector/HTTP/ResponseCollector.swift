// Collects one HTTP response at a time on a client connection; confined to the channel's event loop.

import NIOCore
import NIOHTTP1

/// Turns a connection's response parts into whole `HTTP1Response`s for the one waiting request.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var promise: EventLoopPromise<HTTP1Response>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var maxBytes = 0
    /// Why the connection ended, once it has: a request started afterwards fails with this (a TLS handshake
    /// can fail before the first request is handed over, and its error must not become "closed").
    private var closedBy: HTTP1ClientError?

    /// Waits for the next answer; fails at once when the connection already closed.
    func start(_ promise: EventLoopPromise<HTTP1Response>, maxBytes: Int) {
        self.promise = promise
        self.maxBytes = maxBytes
        head = nil
        body.clear()
        if let closedBy { fail(closedBy) }
    }

    /// Fails the waiting request, if any (later completions are ignored); notes whether any of the answer had come.
    func fail(_ error: HTTP1ClientError) {
        guard let promise else { return }
        var error = error
        error.beforeAnswer = head == nil && error.code == .connectionClosed
        self.promise = nil
        head = nil
        promise.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else {
            // An answer nobody asked for: the connection is out of step; drop it.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= maxBytes else {
                fail(HTTP1ClientError(.responseTooLarge, "the answer's body exceeds \(maxBytes) bytes"))
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&part)
        case .end:
            guard let promise, let head else { return }
            self.promise = nil
            self.head = nil
            let response = HTTP1Response(status: head.status, headers: head.headers, body: body, keepAlive: head.isKeepAlive)
            body = ByteBuffer()
            promise.succeed(response)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = closedBy ?? HTTP1ClientError(
            .connectionClosed, head == nil ? HTTP1ClientError.closedBeforeAnswer : "closed mid-answer")
        closedBy = error
        fail(error)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let error = HTTP1ClientError(.connectionClosed, "\(error)")
        if closedBy == nil { closedBy = error }
        fail(error)
        context.close(promise: nil)
    }
}
