// A minimal APM Server for benchmarks: answers every request 202 and counts them. No decoding, so
// the figure measures the collector, not the sink.

import NIOCore
import NIOHTTP1
import NIOPosix

/// A loopback HTTP server that answers 202 to everything.
final class CountingAPMServer: Sendable {
    /// Requests answered so far.
    actor Counter {
        private(set) var value = 0
        func increment() { value += 1 }
        func load() -> Int { value }
    }

    let port: Int
    /// Requests answered so far.
    let requests: Counter
    private let channel: any Channel
    private let task: Task<Void, Never>

    private init(port: Int, requests: Counter, channel: any Channel, task: Task<Void, Never>) {
        self.port = port
        self.requests = requests
        self.channel = channel
        self.task = task
    }

    static func start() async throws -> CountingAPMServer {
        let counter = Counter()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let task = Task {
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask {
                            try? await connection.executeThenClose { inbound, outbound in
                                for try await part in inbound {
                                    guard case .end = part else { continue }
                                    await counter.increment()
                                    var headers = HTTPHeaders()
                                    headers.add(name: "content-length", value: "0")
                                    try await outbound.write(contentsOf: [
                                        .head(HTTPResponseHead(version: .http1_1, status: .accepted, headers: headers)),
                                        .end(nil),
                                    ])
                                }
                            }
                        }
                    }
                }
                group.cancelAll()
            }
        }
        return CountingAPMServer(
            port: server.channel.localAddress?.port ?? 0, requests: counter, channel: server.channel, task: task)
    }

    func stop() async throws {
        try await channel.close()
        task.cancel()
        await task.value
    }
}
