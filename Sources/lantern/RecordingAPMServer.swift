// A stand-in APM Server on loopback for the demo and the benchmarks: it accepts intake v2 events
// (plain, gzip or deflate), answers the agents' server-info probe, counts what it received by event
// type and can append every event line to a file so tests can validate it against the intake schemas.
// Self-contained on purpose (NIO + CompressNIO + Foundation only) so `lantern-bench` can reuse it.

import CompressNIO
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A recording APM Server: `POST /intake/v2/events` and `GET /` on loopback, nothing else.
final class RecordingAPMServer: Sendable {
    /// What the server has received so far.
    struct Snapshot: Sendable, Equatable {
        /// Intake requests accepted (202).
        var intakeRequests = 0
        /// Intake requests refused (bad encoding, bad JSON, too large).
        var rejectedRequests = 0
        /// Event lines by their key: `metadata`, `transaction`, `span`, `error`, `metricset`, `log`.
        var eventsByType: [String: Int] = [:]
        /// Decompressed intake bytes.
        var bytes = 0
        /// `GET /` server-information probes.
        var infoRequests = 0

        /// Events that are not metadata.
        var events: Int { eventsByType.filter { $0.key != "metadata" }.values.reduce(0, +) }
    }

    /// The body size beyond which intake requests get 413, like a real APM Server's `max_event_size` guard.
    static let maxBodyBytes = 16 * 1024 * 1024

    /// The port the server listens on (useful when it was started on port 0).
    let port: Int
    private let channel: any Channel
    private let ledger: Ledger

    private init(port: Int, channel: any Channel, ledger: Ledger) {
        self.port = port
        self.channel = channel
        self.ledger = ledger
    }

    /// Binds `host:port` (port 0 picks a free one) and starts serving.
    /// - Parameter eventsFile: when set, every decompressed event line is appended to this file (created if missing).
    static func start(
        host: String = "127.0.0.1", port: Int = 0, eventsFile: URL? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RecordingAPMServer {
        let ledger = try Ledger(eventsFile: eventsFile)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(IntakeHandler(ledger: ledger))
                }
            }
            .bind(host: host, port: port).get()
        guard let boundPort = channel.localAddress?.port else {
            try? await channel.close()
            throw DemoError(.portUnavailable, "the recording APM Server could not read its bound port")
        }
        return RecordingAPMServer(port: boundPort, channel: channel, ledger: ledger)
    }

    /// The base URL agents and collectors send to.
    var url: String { "http://127.0.0.1:\(port)" }

    /// What was received so far.
    func snapshot() -> Snapshot { ledger.snapshot() }

    /// Stops listening and closes the events file.
    func close() async {
        try? await channel.close()
        ledger.close()
    }
}

/// The server's shared record. NIO handlers on several event loops write it; the demo reads it.
private final class Ledger: Sendable {
    private struct State {
        var snapshot = RecordingAPMServer.Snapshot()
        var eventsFile: FileHandle?
    }

    private let state: Mutex<State>

    init(eventsFile: URL?) throws {
        var handle: FileHandle?
        if let eventsFile {
            // Appended to, never truncated: several demo runs (say, with different seeds) make one fleet's events
            // file for `lantern import`.
            if !FileManager.default.fileExists(atPath: eventsFile.path) {
                guard FileManager.default.createFile(atPath: eventsFile.path, contents: nil) else {
                    throw DemoError(.fileUnwritable, "cannot create \(eventsFile.path) for the received APM events")
                }
            }
            do {
                handle = try FileHandle(forWritingTo: eventsFile)
                try handle?.seekToEnd()
            } catch {
                throw DemoError(.fileUnwritable, "cannot append to \(eventsFile.path) for the received APM events: \(error)")
            }
        }
        state = Mutex(State(eventsFile: handle))
    }

    func snapshot() -> RecordingAPMServer.Snapshot { state.withLock { $0.snapshot } }

    func info() { state.withLock { $0.snapshot.infoRequests += 1 } }

    func rejected() { state.withLock { $0.snapshot.rejectedRequests += 1 } }

    func accepted(lines: [(type: String, line: Substring)], bytes: Int) {
        state.withLock { state in
            state.snapshot.intakeRequests += 1
            state.snapshot.bytes += bytes
            for entry in lines { state.snapshot.eventsByType[entry.type, default: 0] += 1 }
            if let file = state.eventsFile {
                var text = lines.map { String($0.line) }.joined(separator: "\n")
                text += "\n"
                try? file.write(contentsOf: Data(text.utf8))
            }
        }
    }

    func close() {
        state.withLock { state in
            try? state.eventsFile?.close()
            state.eventsFile = nil
        }
    }
}

/// One connection's requests: collects a body, then answers it.
private final class IntakeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum RequestState {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        case tooLarge(HTTPRequestHead)
    }

    private let ledger: Ledger
    private var request = RequestState.idle

    init(ledger: Ledger) { self.ledger = ledger }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = .receiving(head, context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            guard case .receiving(let head, var body) = request else { return }
            if body.readableBytes + chunk.readableBytes > RecordingAPMServer.maxBodyBytes {
                request = .tooLarge(head)
            } else {
                body.writeBuffer(&chunk)
                request = .receiving(head, body)
            }
        case .end:
            let finished = request
            request = .idle
            switch finished {
            case .idle: return
            case .tooLarge(let head):
                ledger.rejected()
                respond(context: context, head: head, status: .payloadTooLarge, body: #"{"error":"request body too large"}"#)
            case .receiving(let head, let body):
                route(context: context, head: head, body: body)
            }
        }
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.GET, "/"):
            ledger.info()
            respond(
                context: context, head: head, status: .ok,
                body: #"{"build_date":"2026-01-01T00:00:00Z","build_sha":"lantern-recording-apm-server","publish_ready":true,"version":"8.15.0"}"#)
        case (.POST, "/intake/v2/events"):
            intake(context: context, head: head, body: body)
        default:
            respond(context: context, head: head, status: .notFound, body: #"{"error":"not found"}"#)
        }
    }

    private func intake(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        var compressed = body
        let plain: ByteBuffer
        do {
            switch head.headers.first(name: "content-encoding")?.lowercased() {
            case "gzip": plain = try compressed.decompress(with: .gzip(), maxSize: RecordingAPMServer.maxBodyBytes)
            case "deflate": plain = try compressed.decompress(with: .zlib(), maxSize: RecordingAPMServer.maxBodyBytes)
            case nil, "", "identity": plain = body
            case let other?:
                ledger.rejected()
                return respond(context: context, head: head, status: .unsupportedMediaType, body: #"{"error":"unsupported content encoding \#(other)"}"#)
            }
        } catch {
            ledger.rejected()
            return respond(context: context, head: head, status: .badRequest, body: #"{"error":"cannot decompress the body"}"#)
        }
        let text = String(buffer: plain)
        var lines: [(type: String, line: Substring)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where !line.allSatisfy(\.isWhitespace) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object.count == 1, let type = object.keys.first
            else {
                ledger.rejected()
                return respond(context: context, head: head, status: .badRequest, body: #"{"error":"each line must be a JSON object with one key"}"#)
            }
            lines.append((type, line))
        }
        ledger.accepted(lines: lines, bytes: plain.readableBytes)
        respond(context: context, head: head, status: .accepted, body: "")
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, body: String) {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(body.utf8.count))
        if !body.isEmpty { headers.add(name: "content-type", value: "application/json") }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
