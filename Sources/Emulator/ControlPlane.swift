import Foundation
import LambdaWire
import NIOCore
import NIOHTTP1

/// The `AWS_LAMBDA_RUNTIME_API` listener: routes the Runtime, Extensions, Telemetry and Logs APIs to the sandbox
/// and renders its answers with Lambda's status codes and error bodies.
struct ControlPlane: Sendable {
    let sandbox: Sandbox

    /// Bodies up to the response limit are read; larger ones are counted (for the 413) and dropped.
    static let bodyLimit = RuntimeAPI.maxResponseBytes

    func respond(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            return try await route(request)
        } catch {
            return Self.failure(error)
        }
    }

    static func failure(_ failure: APIFailure) -> HTTPResponse {
        let body = (try? WireJSON.encode(ErrorResponse(errorType: failure.errorType, errorMessage: failure.errorMessage))) ?? []
        return .json(HTTPResponseStatus(statusCode: failure.status), body)
    }

    static let accepted: HTTPResponse = .json(.accepted, Array(#"{"status":"OK"}"#.utf8))

    private func route(_ request: HTTPRequest) async throws(APIFailure) -> HTTPResponse {
        let path = request.path
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let version = parts.first else { throw Self.notFound(path) }
        switch version {
        case RuntimeAPI.version: return try await runtimeRoute(request, Array(parts.dropFirst()))
        case ExtensionsAPI.version: return try await extensionsRoute(request, Array(parts.dropFirst()))
        case TelemetryAPI.version, LogsAPI.version:
            guard parts.count == 2, parts[1] == (version == TelemetryAPI.version ? "telemetry" : "logs") else { throw Self.notFound(path) }
            try Self.require(request, .PUT, orAlso: version == LogsAPI.version ? .POST : nil)
            try await sandbox.subscribe(
                request.headers.first(name: ExtensionsAPI.Header.identifier),
                api: version == TelemetryAPI.version ? .telemetry : .logs(schema: LogsAPI.version),
                body: Data(request.body.readableBytesView))
            return .json(.ok, Array(#""OK""#.utf8))
        default:
            throw Self.notFound(path)
        }
    }

    private func runtimeRoute(_ request: HTTPRequest, _ parts: [String]) async throws(APIFailure) -> HTTPResponse {
        switch parts {
        case ["ping"]:
            return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: ByteBuffer(string: "pong"))
        case ["runtime", "invocation", "next"]:
            try Self.require(request, .GET)
            switch try await sandbox.runtimeNext() {
            case .invoke(let event):
                var headers: HTTPHeaders = [
                    RuntimeAPI.Header.requestID: event.requestID,
                    RuntimeAPI.Header.deadlineMs: String(event.deadlineMs),
                    RuntimeAPI.Header.invokedFunctionARN: event.functionARN,
                    RuntimeAPI.Header.traceID: event.traceID,
                    "Content-Type": event.contentType,
                ]
                if let c = event.clientContext { headers.add(name: RuntimeAPI.Header.clientContext, value: c) }
                if let t = event.tenantID { headers.add(name: RuntimeAPI.Header.tenantID, value: t) }
                return HTTPResponse(status: .ok, headers: headers, body: event.payload)
            case .terminated:
                throw APIFailure(500, "Runtime.Terminated", "the execution environment is shutting down")
            case .superseded:
                throw APIFailure(403, WireErrorType.invalidStateTransition, "superseded by a newer /next on another connection")
            }
        case _ where parts.count == 4 && parts[0] == "runtime" && parts[1] == "invocation" && parts[3] == "response":
            try Self.require(request, .POST)
            try await sandbox.runtimeResponse(parts[2], post(request))
            return Self.accepted
        case _ where parts.count == 4 && parts[0] == "runtime" && parts[1] == "invocation" && parts[3] == "error":
            try Self.require(request, .POST)
            try await sandbox.runtimeError(parts[2], post(request))
            return Self.accepted
        case ["runtime", "init", "error"]:
            try Self.require(request, .POST)
            try await sandbox.runtimeInitError(post(request))
            return Self.accepted
        case ["runtime", "restore", "next"], ["runtime", "restore", "error"]:
            throw APIFailure(403, WireErrorType.invalidStateTransition, "SnapStart restore is not enabled in this environment")
        default:
            throw Self.notFound(request.path)
        }
    }

    private func post(_ request: HTTPRequest) -> RuntimePost {
        RuntimePost(
            body: request.body, bodyBytes: request.bodyBytes, tooLarge: request.bodyTooLarge,
            contentType: request.headers.first(name: "Content-Type"),
            errorTypeHeader: request.headers.first(name: RuntimeAPI.Header.functionErrorType),
            responseMode: request.headers.first(name: RuntimeAPI.Header.responseMode),
            trailerErrorType: request.trailers?.first(name: RuntimeAPI.Header.functionErrorType),
            receivedAtMillis: Sandbox.nowMillis())
    }

    private func extensionsRoute(_ request: HTTPRequest, _ parts: [String]) async throws(APIFailure) -> HTTPResponse {
        let id = request.headers.first(name: ExtensionsAPI.Header.identifier)
        switch parts {
        case ["extension", "register"]:
            try Self.require(request, .POST)
            let (newID, response) = try await sandbox.register(
                name: request.headers.first(name: ExtensionsAPI.Header.name), body: Data(request.body.readableBytesView),
                acceptFeature: request.headers.first(name: ExtensionsAPI.Header.acceptFeature))
            let body = (try? WireJSON.encode(response)) ?? []
            return .json(.ok, body, headers: [ExtensionsAPI.Header.identifier: newID])
        case ["extension", "event", "next"]:
            try Self.require(request, .GET)
            switch try await sandbox.extensionNext(id) {
            case .event(let event):
                let body = (try? WireJSON.encode(event)) ?? []
                return .json(.ok, body, headers: [ExtensionsAPI.Header.eventIdentifier: UUID().uuidString.lowercased()])
            case .terminated:
                throw APIFailure(500, "Extension.Terminated", "the execution environment is shutting down")
            case .superseded:
                throw APIFailure(403, WireErrorType.invalidExtensionState, "superseded by a newer /event/next on another connection")
            }
        case ["extension", "init", "error"], ["extension", "exit", "error"]:
            try Self.require(request, .POST)
            try await sandbox.extensionError(
                id, errorType: request.headers.first(name: ExtensionsAPI.Header.functionErrorType), exit: parts[1] == "exit")
            return Self.accepted
        default:
            throw Self.notFound(request.path)
        }
    }

    static func notFound(_ path: String) -> APIFailure {
        APIFailure(404, "NotFound", "no such API path: \(path)")
    }

    static func require(_ request: HTTPRequest, _ method: HTTPMethod, orAlso other: HTTPMethod? = nil) throws(APIFailure) {
        guard request.method == method || request.method == other else {
            throw APIFailure(405, "MethodNotAllowed", "\(request.path) accepts \(method.rawValue), not \(request.method.rawValue)")
        }
    }
}
