// A minimal APM Server for benchmarks: answers every request 202 and counts them. No decoding, and the
// answer is written from the channel handler on its event loop (no async-sequence hops), so the figures
// measure the collector, not the sink.

import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A loopback HTTP server that answers 202 to everything.
final class CountingAPMServer: Sendable {
    /// Requests answered so far.
    final class Counter: Sendable {
        private let value = NIOLockedValueBox(0)
        func increment() { value.withLockedValue { $0 += 1 } }
        func load() -> Int { value.withLockedValue { $0 } }
    }

    /// Answers each request's end with an empty 202, at once.
    final class Answer: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counter: Counter

        init(counter: Counter) { self.counter = counter }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            counter.increment()
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .accepted, headers: headers))),
                          promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    let port: Int
    /// Requests answered so far.
    let requests: Counter
    private let channel: any Channel

    private init(port: Int, requests: Counter, channel: any Channel) {
        self.port = port
        self.requests = requests
        self.channel = channel
    }

    static func start() async throws -> CountingAPMServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Answer(counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return CountingAPMServer(port: channel.localAddress?.port ?? 0, requests: counter, channel: channel)
    }

    func stop() async throws {
        try await channel.close()
    }
}
