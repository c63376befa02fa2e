import Foundation
import LambdaWire
import NIOCore

/// A runtime's POST to `/response` or `/error`, as the control plane received it.
struct RuntimePost: Sendable {
    var body: ByteBuffer
    var bodyBytes: Int
    var tooLarge: Bool
    var contentType: String?
    var errorTypeHeader: String?
    var responseMode: String?
    /// Streaming responses may report a mid-stream error in trailers.
    var trailerErrorType: String?
    var receivedAtMillis: Int64
}

extension Sandbox {
    static func transitionRefused(_ from: String, _ to: String) -> APIFailure {
        APIFailure(403, WireErrorType.invalidStateTransition,
                   "State transition from \(from) to \(to) failed for runtime. Error: State transition is not allowed")
    }

    var runtimeStateName: String {
        switch runtime {
        case .notStarted: "RuntimeNotStartedState"
        case .started: "RuntimeStartedState"
        case .waiting: "RuntimeReadyState"
        case .invoked: "RuntimeRunningState"
        case .responded: "RuntimeResponseSentState"
        case .exited: "RuntimeExitedState"
        }
    }

    /// `GET /runtime/invocation/next`: ends the runtime's init or its part of an invoke, then waits for an event.
    func runtimeNext() async throws(APIFailure) -> RuntimeNext {
        if managed != nil { return try await managedRuntimeNext() }
        switch runtime {
        case .notStarted, .exited:
            throw Self.transitionRefused(runtimeStateName, "Ready")
        case .waiting:
            // A client that lost its connection asks again: the newer request takes over the wait.
            if let previous = runtimeWaiter {
                runtimeWaiter = nil
                previous.resume(returning: .superseded)
            }
        case .invoked:
            if pendingRuntimeEvent == nil { throw Self.transitionRefused(runtimeStateName, "Ready") }
        case .started:
            runtime = .waiting
            advanceInit()
        case .responded(let requestID):
            runtime = .waiting
            runtimeReleased(requestID)
        }
        if let event = pendingRuntimeEvent {
            pendingRuntimeEvent = nil
            runtime = .invoked(requestID: event.requestID)
            return .invoke(event)
        }
        if case .terminated = phase { return .terminated }
        return await withCheckedContinuation { (waiter: CheckedContinuation<RuntimeNext, Never>) in
            runtimeWaiter = waiter
        }
    }

    /// Checks that `requestID` is the invoke the runtime owes an answer for.
    private func checkAnswerable(_ requestID: String, as transition: String) throws(APIFailure) {
        switch runtime {
        case .invoked(let current):
            if current != requestID { throw APIFailure(400, WireErrorType.invalidRequestID, "Invalid request ID") }
        case .responded(let current):
            if current != requestID { throw APIFailure(400, WireErrorType.invalidRequestID, "Invalid request ID") }
            throw Self.transitionRefused(runtimeStateName, transition)
        default:
            throw Self.transitionRefused(runtimeStateName, transition)
        }
    }

    /// `POST /runtime/invocation/{id}/response`: the caller gets it now.
    func runtimeResponse(_ requestID: String, _ post: RuntimePost) throws(APIFailure) {
        if managed != nil { return try managedRuntimeResponse(requestID, post) }
        try checkAnswerable(requestID, as: "InvocationResponse")
        if let mode = post.responseMode, mode.lowercased() != RuntimeAPI.streamingResponseMode {
            throw APIFailure(400, WireErrorType.invalidFunctionResponseMode,
                             "Invalid function response mode '\(mode)': only 'streaming' may be set in \(RuntimeAPI.Header.responseMode)")
        }
        runtime = .responded(requestID: requestID)
        if post.tooLarge {
            respond(.responseTooLarge(requestID: requestID, bytes: post.bodyBytes))
            runtimeDone(status: .error, errorType: WireErrorType.responseSizeTooLarge, producedBytes: post.bodyBytes,
                        receivedAtMillis: post.receivedAtMillis)
            throw APIFailure(413, WireErrorType.requestEntityTooLarge,
                             "Exceeded maximum allowed payload size (\(RuntimeAPI.maxResponseBytes) bytes).")
        }
        if let midStream = post.trailerErrorType {
            respond(.functionError(requestID: requestID, body: post.body, errorType: midStream))
            runtimeDone(status: .error, errorType: normalizedErrorType(midStream), producedBytes: post.bodyBytes,
                        receivedAtMillis: post.receivedAtMillis)
            return
        }
        respond(.response(requestID: requestID, body: post.body, contentType: post.contentType))
        runtimeDone(status: .success, errorType: nil, producedBytes: post.bodyBytes, receivedAtMillis: post.receivedAtMillis)
    }

    /// `POST /runtime/invocation/{id}/error`: a function error; the caller gets the runtime's body.
    func runtimeError(_ requestID: String, _ post: RuntimePost) throws(APIFailure) {
        if managed != nil { return try managedRuntimeError(requestID, post) }
        try checkAnswerable(requestID, as: "InvocationErrorResponse")
        runtime = .responded(requestID: requestID)
        if post.tooLarge {
            respond(.responseTooLarge(requestID: requestID, bytes: post.bodyBytes))
            runtimeDone(status: .error, errorType: WireErrorType.responseSizeTooLarge, producedBytes: post.bodyBytes)
            throw APIFailure(413, WireErrorType.requestEntityTooLarge,
                             "Exceeded maximum allowed payload size (\(RuntimeAPI.maxResponseBytes) bytes).")
        }
        let errorType = normalizedErrorType(post.errorTypeHeader)
        respond(.functionError(requestID: requestID, body: post.body, errorType: errorType))
        runtimeDone(status: .error, errorType: errorType, producedBytes: post.bodyBytes, receivedAtMillis: post.receivedAtMillis)
    }

    /// `POST /runtime/init/error`: only before the runtime's first `next`. Init fails.
    func runtimeInitError(_ post: RuntimePost) throws(APIFailure) {
        guard runtime == .started, case .initializing = phase else {
            throw Self.transitionRefused(runtimeStateName, "InitError")
        }
        let body = (try? JSONDecoder().decode(FunctionErrorBody.self, from: Data(post.body.readableBytesView)))
        let errorType = post.errorTypeHeader.flatMap { $0.isEmpty ? nil : $0 } ?? body?.errorType ?? WireErrorType.runtimeUnknown
        let failure = InitFailure(
            errorType: errorType, errorMessage: body?.errorMessage ?? "the runtime reported an init error",
            body: post.body.readableBytes > 0 ? post.body : nil, status: .error)
        failInit(failure)
    }
}
