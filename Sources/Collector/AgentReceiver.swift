// The HTTP server APM agents talk to (Elastic's data receiver, port 8200, loopback only):
//   /intake/v2/events      decode, hand to the Forwarder and the AgentObserver, answer 202 (even when the
//                          Forwarder had to drop: agents must not back off)
//   /register/transaction  a partial transaction for proxy transactions (415 / 400 / 422 as Elastic)
//   anything else          proxied to the APM Server with the auth header added (502 when unreachable)
// Bodies are capped (413). Each connection is served by an `AgentConnection` handler, one request at a time.

import LanternStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The local receiver for APM agent traffic.
public actor AgentReceiver {
    nonisolated let host: String
    nonisolated let port: Int
    nonisolated let forwarder: Forwarder
    nonisolated let observer: any AgentObserver
    nonisolated let configuration: ReceiverConfiguration
    nonisolated let recorder: Recorder?
    nonisolated let environmentID: String
    nonisolated let logger: Logger
    nonisolated let eventLoopGroup: any EventLoopGroup

    private enum State {
        case idle
        case running(channel: any Channel)
        case stopped
    }
    private var state: State = .idle
    private nonisolated let connections = OpenConnections()

    static let registrationContentType = "application/vnd.elastic.apm.transaction+ndjson"
    static let requestIDHeader = "x-elastic-aws-request-id"

    public init(
        host: String = "127.0.0.1", port: Int, forwarder: Forwarder, observer: any AgentObserver,
        configuration: ReceiverConfiguration = .init(), recorder: Recorder?, environmentID: String, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.forwarder = forwarder
        self.observer = observer
        self.configuration = configuration
        self.recorder = recorder
        self.environmentID = environmentID
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
    }

    /// Binds and starts serving; returns the bound port (pass port 0 for an ephemeral one).
    public func start() async throws -> Int {
        guard case .idle = state else { throw ReceiverError(.alreadyStarted, "the agent receiver was started before") }
        let connections = connections
        let configuration = configuration
        let server = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    connections.opened(channel)
                    // No pipelining assistant (requests are answered one at a time, in order) and no outbound
                    // header validator (the headers are ours).
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(AgentConnection(receiver: self, configuration: configuration))
                }
            }
            .bind(host: host, port: port).get()
        let boundPort = server.localAddress?.port ?? port
        state = .running(channel: server)
        logger.info("agent receiver listening", metadata: ["address": "\(host):\(boundPort)"])
        return boundPort
    }

    /// Stops accepting and closes open connections.
    public func stop() async {
        guard case .running(let channel) = state else {
            state = .stopped
            return
        }
        state = .stopped
        try? await channel.close()
        await connections.closeAll()
    }

    // MARK: - Connections

    /// One parsed request with its (capped) body.
    struct Request {
        var head: HTTPRequestHead
        var body: ByteBuffer
        /// Bytes received, including those discarded beyond the cap.
        var receivedBytes: Int
        var tooLarge: Bool
        var path: Substring { head.uri.splitOnce(ascii: UInt8(ascii: "?")).0 }
        var query: Substring? { head.uri.splitOnce(ascii: UInt8(ascii: "?")).1 }
    }

    /// What to answer.
    struct Response {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders = [:]
        var body: ByteBuffer = ByteBuffer()
        var close = false
    }

    /// The wire parts of `response` to a request with `head`.
    static func parts(of response: Response, for head: HTTPRequestHead, keepAlive: Bool) -> [HTTPServerResponsePart] {
        var headers = response.headers
        headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        var parts: [HTTPServerResponsePart] = [.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))]
        if response.body.readableBytes > 0 { parts.append(.body(.byteBuffer(response.body))) }
        parts.append(.end(nil))
        return parts
    }

    nonisolated func route(_ request: Request) async -> Response {
        switch request.path {
        case "/intake/v2/events":
            return await intake(request)
        case "/register/transaction":
            return await register(request)
        default:
            return await proxy(request)
        }
    }

    // MARK: - Intake

    nonisolated func intake(_ request: Request) async -> Response {
        let receivedAt = epochMicros()
        let flushed = request.query.map(Self.isFlushed) ?? false
        guard request.head.method == .POST || request.head.method == .PUT else {
            return Self.errorResponse(.methodNotAllowed, "use POST for /intake/v2/events", extra: ["Allow": "POST"])
        }
        let body: ByteBuffer
        do throws(IntakeError) {
            if request.tooLarge {
                throw IntakeError(.bodyTooLarge, "body of \(request.receivedBytes) bytes exceeds \(configuration.maxBodyBytes)")
            }
            body = try IntakeDecoder.decompress(
                request.body, contentEncoding: request.head.headers.first(name: "content-encoding"),
                maxBytes: configuration.maxDecompressedBytes)
        } catch {
            recordDrop(events: 0, bytes: request.receivedBytes, reason: "intake refused: \(error.message)")
            // The flush signal still counts: the agent is done with its invocation even if its data was bad.
            if flushed {
                await forwarder.agentFlushed(requestID: nil)
                await observer.agentSent(AgentBatch(flushed: true, receivedAt: receivedAt))
            }
            let status: HTTPResponseStatus = error.code == .bodyTooLarge ? .payloadTooLarge : .badRequest
            return Self.errorResponse(status, error.message, close: error.code == .bodyTooLarge)
        }
        let (batch, rejected) = IntakeDecoder.decodeIntake(body, flushed: flushed, receivedAt: receivedAt)
        await forwarder.enqueue(batch)
        await observer.agentSent(batch)
        guard rejected.isEmpty else {
            recordDrop(
                events: rejected.count, bytes: 0,
                reason: "malformed ndjson lines " + rejected.prefix(10).map { String($0.line) }.joined(separator: ","),
                requestID: batch.transactions.first?.requestID)
            let errors = rejected.prefix(20).map { "line \($0.line): \($0.reason)" }
            return Self.jsonResponse(
                .badRequest,
                ["accepted": .int(Int64(batch.events.count)), "errors": .array(errors.map { IntakeJSON.object(["message": .string($0)]) })])
        }
        var response = Response(status: .accepted)
        response.body = ByteBuffer(string: "ok")
        return response
    }

    static func isFlushed(_ query: Substring) -> Bool {
        query.split(ascii: UInt8(ascii: "&")).contains { pair in
            let (key, value) = pair.splitOnce(ascii: UInt8(ascii: "="))
            return key == "flushed" && value?.lowercased() == "true"
        }
    }

    // MARK: - Registration

    nonisolated func register(_ request: Request) async -> Response {
        let contentType = request.head.headers.first(name: "content-type")?
            .splitOnce(ascii: UInt8(ascii: ";")).0.trimmingASCIISpaces().lowercased()
        guard contentType == Self.registrationContentType else {
            return Self.errorResponse(
                .unsupportedMediaType, "Content-Type must be \(Self.registrationContentType), got \(contentType ?? "none")")
        }
        guard let requestID = request.head.headers.first(name: Self.requestIDHeader), !requestID.isEmpty else {
            return Self.errorResponse(.badRequest, "missing header \(Self.requestIDHeader)")
        }
        let registration: TransactionRegistration
        do throws(IntakeError) {
            if request.tooLarge {
                throw IntakeError(.bodyTooLarge, "body of \(request.receivedBytes) bytes exceeds \(configuration.maxBodyBytes)")
            }
            let body = try IntakeDecoder.decompress(
                request.body, contentEncoding: request.head.headers.first(name: "content-encoding"),
                maxBytes: configuration.maxDecompressedBytes)
            registration = try IntakeDecoder.decodeRegistration(body, requestID: requestID, receivedAt: epochMicros())
        } catch {
            if error.code == .bodyTooLarge { return Self.errorResponse(.payloadTooLarge, error.message, close: true) }
            return Self.errorResponse(.unprocessableEntity, error.message)
        }
        if let metadata = registration.metadata { await forwarder.noteMetadata(metadata) }
        await observer.agentRegistered(registration)
        return Response(status: .ok)
    }

    // MARK: - Proxy

    nonisolated func proxy(_ request: Request) async -> Response {
        guard let client = forwarder.client else {
            return Self.errorResponse(.badGateway, "no APM Server configured (record only)")
        }
        if request.tooLarge {
            return Self.errorResponse(.payloadTooLarge, "body exceeds \(configuration.maxBodyBytes) bytes", close: true)
        }
        do {
            let answer = try await client.proxy(
                method: request.head.method, uri: request.head.uri, headers: request.head.headers, body: request.body,
                deadline: .now() + configuration.proxyTimeout, maxResponseBytes: configuration.maxProxyResponseBytes,
                logger: logger)
            return Response(status: answer.status, headers: answer.headers, body: answer.body)
        } catch where error.code == .timeout {
            return Self.errorResponse(.gatewayTimeout, "APM Server did not answer in time")
        } catch {
            logger.warning("proxy to APM Server failed: \(error)")
            return Self.errorResponse(.badGateway, "APM Server unreachable: \(error)")
        }
    }

    // MARK: - Helpers

    nonisolated func recordDrop(events: Int, bytes: Int, reason: String, requestID: String? = nil) {
        logger.warning("agent data refused: \(reason)")
        _ = recorder?.record(.flush(FlushRecord(
            environmentID: environmentID, requestID: requestID, startedAt: epochMicros(), trigger: .intake,
            events: events, bytes: bytes, httpStatus: nil, outcome: .dropped, durationMs: 0, attempt: 0,
            error: reason)))
    }

    static func jsonResponse(_ status: HTTPResponseStatus, _ body: IntakeJSON, close: Bool = false) -> Response {
        var response = Response(status: status, close: close)
        response.headers.add(name: "content-type", value: "application/json")
        response.body = JSONLine.encode(body)
        return response
    }

    static func errorResponse(
        _ status: HTTPResponseStatus, _ message: String, close: Bool = false, extra: [String: String] = [:]
    ) -> Response {
        var response = jsonResponse(status, ["errors": [["message": .string(message)]]], close: close)
        for (name, value) in extra { response.headers.add(name: name, value: value) }
        return response
    }
}
