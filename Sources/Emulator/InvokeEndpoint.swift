import Foundation
import LambdaWire
import NIOCore
import NIOHTTP1

/// RIE's invoke endpoint, `POST /2015-03-31/functions/function/invocations`, answering like real Lambda's Invoke
/// API (or like RIE, with `--dialect rie`).
struct InvokeEndpoint: Sendable {
    let sandbox: Sandbox
    let dialect: InvokeDialect
    let functionVersion: String

    /// Invoke payloads above 6 MiB are refused.
    static let bodyLimit = RuntimeAPI.maxRequestBytes

    func respond(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.path == InvokeAPI.path else {
            return error(.notFound, "ResourceNotFoundException", "Function not found: only \(InvokeAPI.path) is served")
        }
        if request.bodyTooLarge {
            return error(.payloadTooLarge, "RequestEntityTooLargeException",
                         "Request must be smaller than \(RuntimeAPI.maxRequestBytes) bytes for the InvokeFunction operation")
        }
        var clientContext: String?
        if let encoded = request.headers.first(name: InvokeAPI.Header.clientContext), !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
                  (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
            else {
                return error(.badRequest, "InvalidRequestContentException",
                             "Client context must be a valid Base64-encoded JSON object.")
            }
            clientContext = text
        }
        let invoke = InvokeRequest(
            payload: request.body.readableBytes > 0 ? request.body : ByteBuffer(string: "{}"),
            traceID: request.headers.first(name: InvokeAPI.Header.traceID).flatMap { $0.isEmpty ? nil : $0 },
            clientContext: clientContext,
            tenantID: request.headers.first(name: InvokeAPI.Header.tenantID))
        return render(await sandbox.invoke(invoke))
    }

    private func error(_ status: HTTPResponseStatus, _ type: String, _ message: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        .json(status, (try? WireJSON.encode(ErrorResponse(errorType: type, errorMessage: message))) ?? [], headers: headers)
    }

    private func functionError(_ requestID: String, _ body: ByteBuffer) -> HTTPResponse {
        var headers = common(requestID)
        if dialect == .lambda { headers.add(name: InvokeAPI.Header.functionError, value: "Unhandled") }
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: .ok, headers: headers, body: body)
    }

    private func common(_ requestID: String) -> HTTPHeaders {
        guard dialect == .lambda else { return [:] }
        return [InvokeAPI.Header.requestID: requestID, InvokeAPI.Header.executedVersion: functionVersion]
    }

    private func json(_ type: String, _ message: String) -> ByteBuffer {
        ByteBuffer(bytes: (try? WireJSON.encode(ErrorResponse(errorType: type, errorMessage: message))) ?? [])
    }

    func render(_ outcome: InvokeOutcome) -> HTTPResponse {
        switch outcome {
        case .response(let id, let body, let contentType):
            var headers = common(id)
            headers.add(name: "Content-Type", value: dialect == .rie ? "text/plain; charset=utf-8" : (contentType ?? "application/json"))
            return HTTPResponse(status: .ok, headers: headers, body: body)
        case .functionError(let id, let body, _):
            return functionError(id, body)
        case .initError(let id, let failure):
            let body = failure.body ?? json(failure.errorType, "RequestId: \(id) Error: \(failure.errorMessage)")
            if dialect == .rie {
                return HTTPResponse(status: .badGateway, headers: ["Content-Type": "application/json"], body: body)
            }
            return functionError(id, body)
        case .timeout(let id, let seconds):
            let text = "Task timed out after \(Sandbox.format(seconds)) seconds"
            if dialect == .rie {
                return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; charset=utf-8"], body: ByteBuffer(string: text))
            }
            return functionError(id, json(WireErrorType.sandboxTimedOut, "RequestId: \(id) Error: \(text)"))
        case .runtimeExit(let id, let exit):
            let body = json(WireErrorType.runtimeExitError, "RequestId: \(id) Error: Runtime exited with error: \(exit)")
            if dialect == .rie {
                return HTTPResponse(status: .badGateway, headers: ["Content-Type": "application/json"], body: body)
            }
            return functionError(id, body)
        case .extensionFailure(let id, let type, let message):
            if dialect == .rie {
                return HTTPResponse(status: .badGateway, headers: ["Content-Type": "application/json"], body: json(type, message))
            }
            return functionError(id, json(type, message))
        case .responseTooLarge(let id, let bytes):
            let body = json(WireErrorType.responseSizeTooLarge,
                            "Response payload size (\(bytes) bytes) exceeded maximum allowed payload size (\(RuntimeAPI.maxResponseBytes) bytes).")
            return functionError(id, body)
        case .tooManyRequests(let queued, let workers):
            let runs = workers.map { "every worker is busy (\($0) invokes run)" } ?? "one invoke runs"
            return error(.tooManyRequests, WireErrorType.tooManyRequests,
                         "Rate Exceeded: \(runs) and \(queued) wait (--max-queue); try again later",
                         headers: ["Retry-After": "1"])
        case .shuttingDown:
            return error(.serviceUnavailable, "ServiceException", "the emulator is shutting down")
        }
    }
}
