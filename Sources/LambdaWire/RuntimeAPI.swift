/// Paths, headers and limits of the Runtime API (2018-06-01).
public enum RuntimeAPI {
    public static let version = "2018-06-01"
    public static let prefix = "/2018-06-01"

    public static let nextPath = "/2018-06-01/runtime/invocation/next"
    public static let initErrorPath = "/2018-06-01/runtime/init/error"
    public static let restoreNextPath = "/2018-06-01/runtime/restore/next"
    public static let restoreErrorPath = "/2018-06-01/runtime/restore/error"
    public static let pingPath = "/2018-06-01/ping"
    /// `/2018-06-01/runtime/invocation/{id}/response`.
    public static func responsePath(requestID: String) -> String { "/2018-06-01/runtime/invocation/\(requestID)/response" }
    /// `/2018-06-01/runtime/invocation/{id}/error`.
    public static func errorPath(requestID: String) -> String { "/2018-06-01/runtime/invocation/\(requestID)/error" }

    /// Largest response payload Lambda (and RIE) accepts: 6 MiB + 100 bytes.
    public static let maxResponseBytes = 6 * 1024 * 1024 + 100
    /// Largest request payload.
    public static let maxRequestBytes = 6 * 1024 * 1024

    /// Headers of the Runtime API.
    public enum Header {
        public static let requestID = "Lambda-Runtime-Aws-Request-Id"
        public static let deadlineMs = "Lambda-Runtime-Deadline-Ms"
        public static let invokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
        public static let traceID = "Lambda-Runtime-Trace-Id"
        public static let clientContext = "Lambda-Runtime-Client-Context"
        public static let cognitoIdentity = "Lambda-Runtime-Cognito-Identity"
        public static let tenantID = "Lambda-Runtime-Aws-Tenant-Id"
        public static let functionErrorType = "Lambda-Runtime-Function-Error-Type"
        public static let functionErrorBody = "Lambda-Runtime-Function-Error-Body"
        public static let xrayErrorCause = "Lambda-Runtime-Function-XRay-Error-Cause"
        public static let responseMode = "Lambda-Runtime-Function-Response-Mode"
    }

    /// The only response mode value the Runtime API accepts in the mode header.
    public static let streamingResponseMode = "streaming"
    /// Content type of an error body that carries an `errorCause`.
    public static let errorCauseContentType = "application/vnd.aws.lambda.error.cause+json"
}

/// The body a runtime posts to `/error` or `/init/error`, by convention.
public struct FunctionErrorBody: Codable, Sendable, Equatable {
    public var errorMessage: String?
    public var errorType: String?
    public var requestId: String?
    public var stackTrace: [String]?

    public init(errorMessage: String? = nil, errorType: String? = nil, requestId: String? = nil, stackTrace: [String]? = nil) {
        self.errorMessage = errorMessage
        self.errorType = errorType
        self.requestId = requestId
        self.stackTrace = stackTrace
    }
}

/// Lambda's normalisation of a runtime-reported error type (`(Runtime|Function)\.[A-Z][a-zA-Z]+` is kept).
public func normalizedErrorType(_ raw: String?) -> String {
    guard let raw, !raw.isEmpty else { return WireErrorType.runtimeUnknown }
    for prefix in ["Runtime.", "Function."] where raw.hasPrefix(prefix) {
        let rest = raw.dropFirst(prefix.count)
        if let first = rest.first, first.isASCII, first.isUppercase,
           rest.count >= 2, rest.allSatisfy({ $0.isASCII && $0.isLetter }) {
            return raw
        }
        return prefix == "Function." ? WireErrorType.functionUnknown : WireErrorType.runtimeUnknown
    }
    return WireErrorType.runtimeUnknown
}

/// The invoke endpoint of RIE and its headers.
public enum InvokeAPI {
    public static let path = "/2015-03-31/functions/function/invocations"

    /// Headers of the invoke endpoint.
    public enum Header {
        public static let clientContext = "X-Amz-Client-Context"
        public static let traceID = "X-Amzn-Trace-Id"
        public static let tenantID = "X-Amz-Tenant-Id"
        public static let functionError = "X-Amz-Function-Error"
        public static let executedVersion = "X-Amz-Executed-Version"
        public static let requestID = "X-Amzn-RequestId"
        public static let logResult = "X-Amz-Log-Result"
    }
}
