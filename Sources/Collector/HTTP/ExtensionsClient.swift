// The Lambda Extensions API (2020-01-01) from the extension's side: register, the long-polling `next`,
// and the two error reports. Also the Telemetry API subscription, which shares the listener and the
// extension identifier.

import LambdaWire
import LanternStore
import NIOCore
import NIOHTTP1

/// A failed call to the Extensions or Telemetry API.
public struct ExtensionsAPIError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The API answered with a status the call does not accept.
        case unexpectedStatus
        /// `register` answered 200 without a `Lambda-Extension-Identifier` header.
        case missingIdentifier
        /// The body was not the JSON the API documents.
        case undecodableBody
        /// The request never got an answer (connection refused, reset, timed out).
        case transport
    }

    public var code: Code
    public var operation: String
    public var status: Int?
    public var detail: String

    public var description: String {
        "\(operation): \(code.rawValue)\(status.map { " (HTTP \($0))" } ?? ""): \(detail)"
    }
}

/// A successful registration.
public struct ExtensionRegistration: Sendable, Equatable {
    /// The `Lambda-Extension-Identifier` every later call must carry.
    public var identifier: String
    public var response: RegisterResponse
}

/// How a Telemetry API subscription went.
public enum SubscriptionResult: Sendable, Equatable {
    /// 200: telemetry will be delivered.
    case subscribed
    /// 202 (RIE, `sam local`): the platform has no Telemetry API; carry on without it.
    case notSupported(detail: String)
}

/// Client of the Extensions API and the Telemetry API subscription, over `AWS_LAMBDA_RUNTIME_API`.
public final class ExtensionsClient: Sendable {
    let http: HTTP1Client?
    let runtimeAPI: String
    let userAgent: String

    /// - Parameter runtimeAPI: `host:port`, as in `AWS_LAMBDA_RUNTIME_API`.
    public init(runtimeAPI: String, eventLoopGroup: any EventLoopGroup) {
        // A malformed address is reported by the first call (`transport`), where start-up handles API failures.
        self.http = HTTPOrigin(url: "http://\(runtimeAPI)").flatMap {
            try? HTTP1Client(origin: $0, eventLoopGroup: eventLoopGroup, connectTimeout: .seconds(2))
        }
        self.runtimeAPI = runtimeAPI
        self.userAgent = "lantern-extension/\(LanternVersion.current)"
    }

    /// Closes the connections.
    public func shutdown() async {
        await http?.shutdown()
    }

    /// `POST /extension/register` under `name` (must be the executable's file name) for `events`.
    public func register(
        name: String, events: [ExtensionEventType] = [.invoke, .shutdown]
    ) async throws(ExtensionsAPIError) -> ExtensionRegistration {
        let operation = "register"
        var request = makeRequest(ExtensionsAPI.registerPath, method: .POST)
        request.headers.add(name: ExtensionsAPI.Header.name, value: name)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = ByteBuffer(string: #"{"events":["# + events.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]}")
        let (status, headers, body) = try await send(request, operation: operation, timeout: .seconds(10))
        guard status == 200 else { throw unexpected(operation, status, body) }
        guard let identifier = headers.first(name: ExtensionsAPI.Header.identifier), !identifier.isEmpty else {
            throw ExtensionsAPIError(code: .missingIdentifier, operation: operation, status: status,
                                     detail: "no \(ExtensionsAPI.Header.identifier) header in the answer")
        }
        let response = try decode(RegisterResponse.self, from: body, operation: operation, status: status)
        return ExtensionRegistration(identifier: identifier, response: response)
    }

    /// `GET /extension/event/next`: blocks until the next INVOKE or SHUTDOWN.
    public func next(identifier: String) async throws(ExtensionsAPIError) -> ExtensionEvent {
        let operation = "next"
        var request = makeRequest(ExtensionsAPI.nextPath, method: .GET)
        request.headers.add(name: ExtensionsAPI.Header.identifier, value: identifier)
        let (status, _, body) = try await send(request, operation: operation, timeout: .hours(24 * 366))
        guard status == 200 else { throw unexpected(operation, status, body) }
        // Read straight from the parsed tree: one per invocation, and Codable cost more than the JSON.
        return try decode(body, operation: operation, status: status) { try ExtensionEvent.decode(from: $0) }
    }

    /// `POST /extension/init/error`: initialisation failed; the extension should exit afterwards.
    public func initError(identifier: String, errorType: String, message: String) async throws(ExtensionsAPIError) {
        try await reportError(ExtensionsAPI.initErrorPath, operation: "init/error", identifier: identifier,
                              errorType: errorType, message: message)
    }

    /// `POST /extension/exit/error`: the extension is exiting because of an error.
    public func exitError(identifier: String, errorType: String, message: String) async throws(ExtensionsAPIError) {
        try await reportError(ExtensionsAPI.exitErrorPath, operation: "exit/error", identifier: identifier,
                              errorType: errorType, message: message)
    }

    /// `PUT /2022-07-01/telemetry`. 200 = subscribed, 202 = not supported here; anything else throws.
    public func subscribe(
        identifier: String, subscription: TelemetrySubscription
    ) async throws(ExtensionsAPIError) -> SubscriptionResult {
        let operation = "telemetry subscription"
        var request = makeRequest(TelemetryAPI.path, method: .PUT)
        request.headers.add(name: ExtensionsAPI.Header.identifier, value: identifier)
        request.headers.add(name: "Content-Type", value: "application/json")
        guard let body = try? WireJSON.encode(subscription) else {
            throw ExtensionsAPIError(code: .undecodableBody, operation: operation, status: nil,
                                     detail: "the subscription could not be encoded")
        }
        request.body = ByteBuffer(bytes: body)
        let (status, _, answer) = try await send(request, operation: operation, timeout: .seconds(10))
        switch status {
        case 200: return .subscribed
        case 202: return .notSupported(detail: Self.errorDetail(answer) ?? "HTTP 202")
        default: throw unexpected(operation, status, answer)
        }
    }

    // MARK: internals

    private func reportError(
        _ path: String, operation: String, identifier: String, errorType: String, message: String
    ) async throws(ExtensionsAPIError) {
        var request = makeRequest(path, method: .POST)
        request.headers.add(name: ExtensionsAPI.Header.identifier, value: identifier)
        request.headers.add(name: ExtensionsAPI.Header.functionErrorType, value: errorType)
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body = try? WireJSON.encode(ErrorResponse(errorType: errorType, errorMessage: message)) {
            request.body = ByteBuffer(bytes: body)
        }
        let (status, _, answer) = try await send(request, operation: operation, timeout: .seconds(5))
        guard (200...299).contains(status) else { throw unexpected(operation, status, answer) }
    }

    private func makeRequest(_ path: String, method: HTTPMethod) -> HTTP1Request {
        var request = HTTP1Request(method: method, path: path)
        request.headers.add(name: "User-Agent", value: userAgent)
        return request
    }

    private func send(
        _ request: HTTP1Request, operation: String, timeout: TimeAmount
    ) async throws(ExtensionsAPIError) -> (Int, HTTPHeaders, ByteBuffer) {
        guard let http else {
            throw ExtensionsAPIError(code: .transport, operation: operation, status: nil,
                                     detail: "AWS_LAMBDA_RUNTIME_API is not host:port: \(runtimeAPI)")
        }
        do {
            // `next` blocks for as long as the environment is idle (or frozen): it passes a year.
            let response = try await http.execute(request, deadline: .now() + timeout, maxResponseBytes: 6 << 20)
            return (Int(response.status.code), response.headers, response.body)
        } catch {
            throw ExtensionsAPIError(code: .transport, operation: operation, status: nil, detail: "\(error)")
        }
    }

    private func decode<T: Decodable>(
        _ type: T.Type, from body: ByteBuffer, operation: String, status: Int
    ) throws(ExtensionsAPIError) -> T {
        try decode(body, operation: operation, status: status) { try WireJSON.decode(T.self, from: $0) }
    }

    private func decode<T>(
        _ body: ByteBuffer, operation: String, status: Int, _ read: (ByteBufferView) throws -> T
    ) throws(ExtensionsAPIError) -> T {
        do {
            return try read(body.readableBytesView)
        } catch {
            throw ExtensionsAPIError(code: .undecodableBody, operation: operation, status: status,
                                     detail: "\(error); body: \(String(buffer: body).prefix(200))")
        }
    }

    private func unexpected(_ operation: String, _ status: Int, _ body: ByteBuffer) -> ExtensionsAPIError {
        ExtensionsAPIError(code: .unexpectedStatus, operation: operation, status: status,
                           detail: Self.errorDetail(body) ?? String(buffer: body).prefix(200).description)
    }

    /// `errorType: errorMessage` of a Lambda error body, when the body is one.
    static func errorDetail(_ body: ByteBuffer) -> String? {
        guard let error = try? WireJSON.decode(ErrorResponse.self, from: body.readableBytesView) else {
            return nil
        }
        return "\(error.errorType): \(error.errorMessage)"
    }
}
