/// An error of the emulator itself (not a wire error answered to a client).
public struct EmulatorError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public enum Code: String, Sendable {
        case invalidConfiguration
        case bindFailed
        case launchFailed
        case readyFileUnwritable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// A refusal answered on the control plane: an HTTP status and Lambda's `{errorMessage, errorType}` body.
struct APIFailure: Error, Sendable {
    var status: Int
    var errorType: String
    var errorMessage: String

    init(_ status: Int, _ errorType: String, _ errorMessage: String) {
        self.status = status
        self.errorType = errorType
        self.errorMessage = errorMessage
    }
}
