// The HTTP side towards the APM Server, shared by the Forwarder (intake POSTs) and the AgentReceiver
// (the catch-all proxy), so both use the same connection pool, TLS settings and auth header.

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
    let http: HTTP1Client

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
            let text = pem.unescapingNewlines()
            extraRoots += try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        }
        if let file = configuration.caCertFile, !file.isEmpty {
            extraRoots += try NIOSSLCertificate.fromPEMFile(file)
        }
        if !extraRoots.isEmpty { tls.additionalTrustRoots = [.certificates(extraRoots)] }

        guard let origin = HTTPOrigin(url: base) else {
            // The URL goes to stderr and the store: never with its password or token.
            let shown = URLRedaction.redacted(serverURL)
            if URLRedaction.hasUserInfo(serverURL) {
                throw HTTP1ClientError(.connect, "credentials in the APM Server URL are not supported "
                    + "(use ELASTIC_APM_SECRET_TOKEN or ELASTIC_APM_API_KEY): \(shown)")
            }
            throw HTTP1ClientError(.connect, "not an http(s) URL: \(shown)")
        }
        self.http = try HTTP1Client(
            origin: origin, tls: tls, eventLoopGroup: eventLoopGroup, connectTimeout: configuration.sendTimeout)
    }

    /// POSTs one ndjson body (gzipped or plain) to `/intake/v2/events`, bounded by `deadline` and by task cancellation.
    func sendIntake(body: ByteBuffer, gzipped: Bool, deadline: NIODeadline, logger: Logger) async -> SendResult {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-ndjson")
        if gzipped { headers.add(name: "Content-Encoding", value: "gzip") }
        headers.add(name: "User-Agent", value: userAgent)
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let request = HTTP1Request(method: .POST, path: "/intake/v2/events", headers: headers, body: body)
        do {
            // APM Server explains refusals as {"errors":[{"message":...}]}; 16 KiB keeps enough of that.
            let response = try await http.execute(request, deadline: deadline, maxResponseBytes: 16 * 1024)
            let status = Int(response.status.code)
            var error: String?
            if !(200..<300).contains(status) {
                let text = String(buffer: response.body)
                error = "HTTP \(status)" + (text.isEmpty ? "" : ": " + String(text.prefix(300)))
            }
            return SendResult(status: status, error: error, timedOut: false)
        } catch {
            switch error.code {
            case .timeout, .cancelled:
                return SendResult(status: nil, error: "timed out (\(error.detail))", timedOut: true)
            default:
                return SendResult(status: nil, error: "\(error)", timedOut: false)
            }
        }
    }

    /// Forwards an agent's request (any path other than intake and registration) to the APM Server with the
    /// auth header added, as Elastic's reverse proxy does. Throws when the server cannot be reached.
    func proxy(
        method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer?, deadline: NIODeadline,
        maxResponseBytes: Int, logger: Logger
    ) async throws(HTTP1ClientError) -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        var outgoing = HTTPHeaders()
        for header in headers {
            switch header.name.lowercased() {
            case "host", "connection", "content-length", "transfer-encoding", "x-forwarded-for", "keep-alive",
                "user-agent":
                continue
            default:
                outgoing.add(name: header.name, value: header.value)
            }
        }
        if let host = headers.first(name: "host") { outgoing.replaceOrAdd(name: "X-Forwarded-Host", value: host) }
        let agentUA = headers.first(name: "user-agent")
        outgoing.add(name: "User-Agent", value: agentUA.map { "\(userAgent) \($0)" } ?? userAgent)
        // Added, not replacing the agent's own header, as Elastic's proxy does.
        if let authorization { outgoing.add(name: "Authorization", value: authorization) }
        let request = HTTP1Request(
            method: method, path: uri.hasPrefix("/") ? uri : "/" + uri, headers: outgoing,
            body: body.flatMap { $0.readableBytes > 0 ? $0 : nil })
        let response = try await http.execute(request, deadline: deadline, maxResponseBytes: maxResponseBytes)
        var responseHeaders = HTTPHeaders()
        for header in response.headers {
            switch header.name.lowercased() {
            case "connection", "content-length", "transfer-encoding", "keep-alive": continue
            default: responseHeaders.add(name: header.name, value: header.value)
            }
        }
        return (response.status, responseHeaders, response.body)
    }

    /// Closes the connections.
    func shutdown() async {
        await http.shutdown()
    }
}
