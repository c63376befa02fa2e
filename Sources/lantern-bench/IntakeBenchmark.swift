// `lantern-bench intake`: events per second through AgentReceiver → Forwarder → a local APM Server
// (a minimal NIO server answering 202), at saturation: many agents posting gzip ndjson concurrently.

import ArgumentParser
import AsyncHTTPClient
import Collector
import CompressNIO
import LanternStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Intake throughput benchmark.
struct IntakeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake", abstract: "Events/s through the agent receiver and forwarder to a local APM Server.")

    @Option(help: "Agent requests to send.") var requests = 2_000
    @Option(help: "Events (spans) per request.") var eventsPerRequest = 20
    @Option(help: "Concurrent agents.") var concurrency = 8

    func run() async throws {
        // Events/s counts events the APM Server side accepted, over the time until the buffer was drained.
        let result = try await Self.measure(
            requests: requests, eventsPerRequest: eventsPerRequest, concurrency: concurrency)
        print(result.summary)
    }

    struct Result {
        var events: Int
        var seconds: Double
        var sentEvents: Int
        var droppedEvents: Int
        var serverRequests: Int
        var leftEvents: Int
        var state: String
        var summary: String {
            let rate = Double(sentEvents) / seconds
            return """
                intake: \(events) events in \((seconds * 100).rounded() / 100) s = \(Int(rate)) events/s \
                (forwarded \(sentEvents), dropped \(droppedEvents), left \(leftEvents), APM Server requests \(serverRequests), \
                state \(state))
                """
        }
    }

    static func measure(requests: Int, eventsPerRequest: Int, concurrency: Int) async throws -> Result {
        let sink = try await CountingAPMServer.start()
        var logger = Logger(label: "bench.intake")
        logger.logLevel = .error
        let forwarder = Forwarder(
            configuration: ForwarderConfiguration(
                serverURL: "http://127.0.0.1:\(sink.port)", retryBufferBytes: 64 * 1024 * 1024,
                retryBufferEvents: 100_000),
            recorder: nil, environmentID: "bench", logger: logger)
        let observer = NullObserver()
        let receiver = AgentReceiver(
            port: 0, forwarder: forwarder, observer: observer, recorder: nil, environmentID: "bench", logger: logger)
        let port = try await receiver.start()

        var lines = [#"{"metadata":{"service":{"name":"bench","agent":{"name":"python","version":"6.26.2"}}}}"#]
        for index in 0..<eventsPerRequest {
            lines.append(
                #"{"span":{"id":"\#(index)","trace_id":"0af7651916cd43dd8448eb211c80319c","parent_id":"b7ad6b7169203331","name":"SELECT","type":"db","start":1.5,"duration":3.0}}"#)
        }
        var plain = ByteBuffer(string: lines.joined(separator: "\n") + "\n")
        let body = try plain.compress(with: .gzip())

        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in 0..<concurrency {
                group.addTask {
                    var index = agent
                    while index < requests {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/intake/v2/events")
                        request.method = .POST
                        request.headers.add(name: "Content-Encoding", value: "gzip")
                        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
                        request.body = .bytes(body)
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1024)
                        index += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        // Drain: what the receiver accepted must reach the sink (bounded, so a stuck sink cannot hang the bench).
        let drainEnd = clock.now + .seconds(60)
        while clock.now < drainEnd {
            let health = await forwarder.health
            if health.bufferedEvents == 0 && health.inFlightEvents == 0 { break }
            if await forwarder.flush(trigger: .invocation, requestID: nil, deadline: .now() + .seconds(10)) != .sent {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let elapsed = clock.now - start
        let health = await forwarder.health
        await receiver.stop()
        await forwarder.shutdown(deadline: .now() + .seconds(2))
        try await client.shutdown()
        let served = sink.requests.load()
        try await sink.stop()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(
            events: requests * eventsPerRequest, seconds: seconds, sentEvents: health.sentEvents,
            droppedEvents: health.droppedEvents, serverRequests: served,
            leftEvents: health.bufferedEvents + health.inFlightEvents, state: "\(health.state)")
    }
}

/// Ignores agent traffic (the benchmark measures the data path, not the invocation book).
struct NullObserver: AgentObserver {
    func agentSent(_ batch: AgentBatch) async {}
    func agentRegistered(_ registration: TransactionRegistration) async {}
}
