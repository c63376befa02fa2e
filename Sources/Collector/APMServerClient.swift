// The HTTP side towards the APM Server, shared by the Forwarder (intake POSTs) and the AgentReceiver
// (the catch-all proxy), so both use the same connection pool, TLS settings and auth header.

import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// An HTTP client bound to one APM Server.
public struct APMServerClient: Sendable {
    /// The server's base URL without a trailing slash.
    public let baseURL: String
    let authorization: String?
    let userAgent: String
    let http: HTTPClient

    /// What came back from one intake POST.
    public struct SendResult: Sendable {
        /// nil when no HTTP answer arrived (network error, timeout, cancellation).
        public var status: Int?
        public var error: String?
        public var timedOut: Bool
    }

    /// Builds the client; TLS problems (unreadable CA file, bad PEM) are thrown so start-up can report them.
    public init(configuration: ForwarderConfiguration, serverURL: String, eventLoopGroup: any EventLoopGroup) throws {
        var base = serverURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.authorization = configuration.authorization
        self.userAgent = configuration.userAgent

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if !configuration.verifyServerCert { tls.certificateVerification = .none }
        var extraRoots: [NIOSSLCertificate] = []
        if let pem = configuration.caCertPEM, !pem.isEmpty {
            // Elastic accepts PEM text with literal "\n" sequences (environment variables cannot hold newlines).
            let text = pem.replacing("\\n", with: "\n")
            extraRoots += try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        }
        if let file = configuration.caCertFile, !file.isEmpty {
            extraRoots += try NIOSSLCertificate.fromPEMFile(file)
        }
        if !extraRoots.isEmpty { tls.additionalTrustRoots = [.certificates(extraRoots)] }

        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: configuration.sendTimeout, read: nil),
            connectionPool: .init(idleTimeout: .seconds(60)),
            decompression: .disabled
        )
        httpConfiguration.httpVersion = .http1Only
        self.http = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: httpConfiguration)
    }

    /// POSTs one gzipped ndjson body to `/intake/v2/events`, bounded by `deadline` and by task cancellation.
    func sendIntake(gzippedBody: ByteBuffer, deadline: NIODeadline, logger: Logger) async -> SendResult {
        var request = HTTPClientRequest(url: baseURL + "/intake/v2/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
        request.headers.add(name: "Content-Encoding", value: "gzip")
        request.headers.add(name: "User-Agent", value: userAgent)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(gzippedBody)
        do {
            let response = try await http.execute(request, deadline: deadline, logger: logger)
            let status = Int(response.status.code)
            var error: String?
            if !(200..<300).contains(status) {
                // APM Server explains refusals as {"errors":[{"message":...}]}; keep a short excerpt.
                let body = try? await response.body.collect(upTo: 16 * 1024)
                let text = body.map { String(buffer: $0) } ?? ""
                error = "HTTP \(status)" + (text.isEmpty ? "" : ": " + String(text.prefix(300)))
            } else {
                // Drain so the connection can be reused.
                for try await _ in response.body {}
            }
            return SendResult(status: status, error: error, timedOut: false)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            return SendResult(status: nil, error: "timed out (\(error))", timedOut: true)
        } catch is CancellationError {
            return SendResult(status: nil, error: "cancelled", timedOut: true)
        } catch {
            return SendResult(status: nil, error: "\(error)", timedOut: false)
        }
    }

    /// Forwards an agent's request (any path other than intake and registration) to the APM Server with the
    /// auth header added, as Elastic's reverse proxy does. Throws when the server cannot be reached.
    func proxy(
        method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer?, deadline: NIODeadline,
        maxResponseBytes: Int, logger: Logger
    ) async throws -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        var request = HTTPClientRequest(url: baseURL + (uri.hasPrefix("/") ? uri : "/" + uri))
        request.method = method
        for header in headers {
            switch header.name.lowercased() {
            case "host", "connection", "content-length", "transfer-encoding", "x-forwarded-for", "keep-alive",
                "user-agent":
                continue
            default:
                request.headers.add(name: header.name, value: header.value)
            }
        }
        if let host = headers.first(name: "host") { request.headers.replaceOrAdd(name: "X-Forwarded-Host", value: host) }
        let agentUA = headers.first(name: "user-agent")
        request.headers.add(name: "User-Agent", value: agentUA.map { "\(userAgent) \($0)" } ?? userAgent)
        // Added, not replacing the agent's own header, as Elastic's proxy does.
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body, body.readableBytes > 0 { request.body = .bytes(body) }
        let response = try await http.execute(request, deadline: deadline, logger: logger)
        let responseBody = try await response.body.collect(upTo: maxResponseBytes)
        var responseHeaders = HTTPHeaders()
        for header in response.headers {
            switch header.name.lowercased() {
            case "connection", "content-length", "transfer-encoding", "keep-alive": continue
            default: responseHeaders.add(name: header.name, value: header.value)
            }
        }
        return (response.status, responseHeaders, responseBody)
    }

    /// Closes the connection pool.
    func shutdown() async {
        try? await http.shutdown()
    }
}
