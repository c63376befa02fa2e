/// The error body every Lambda API uses: `{"errorMessage":"...","errorType":"..."}`.
public struct ErrorResponse: Codable, Sendable, Equatable {
    public var errorMessage: String
    public var errorType: String

    public init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }
}

/// The success acknowledgement of the Runtime and Extensions APIs: `202 {"status":"OK"}`.
public struct StatusResponse: Codable, Sendable, Equatable {
    public var status: String

    public init(status: String = "OK") { self.status = status }
}

/// The error types the control plane answers with (`errorType` values).
public enum WireErrorType {
    public static let invalidRequestID = "InvalidRequestID"
    public static let invalidStateTransition = "InvalidStateTransition"
    public static let invalidFunctionResponseMode = "InvalidFunctionResponseMode"
    public static let requestEntityTooLarge = "RequestEntityTooLarge"
    public static let truncatedHTTPRequest = "TruncatedHTTPRequest"
    public static let invalidRequestFormat = "InvalidRequestFormat"
    public static let missingExtensionIdentifier = "Extension.MissingExtensionIdentifier"
    public static let invalidExtensionIdentifier = "Extension.InvalidExtensionIdentifier"
    public static let unknownExtensionIdentifier = "Extension.UnknownExtensionIdentifier"
    public static let invalidExtensionName = "Extension.InvalidExtensionName"
    public static let registrationClosed = "Extension.RegistrationClosed"
    public static let invalidExtensionState = "Extension.InvalidExtensionState"
    public static let tooManyExtensions = "Extension.TooManyExtensions"
    public static let invalidEventType = "Extension.InvalidEventType"
    public static let missingHeader = "Extension.MissingHeader"
    public static let telemetryValidation = "ValidationError"
    public static let logsValidation = "Logs.ValidationError"
    public static let telemetrySubscriptionClosed = "Telemetry.SubscriptionClosed"
    public static let telemetryNotSupported = "Telemetry.NotSupported"
    public static let logsNotSupported = "Logs.NotSupported"
    public static let responseSizeTooLarge = "Function.ResponseSizeTooLarge"
    public static let runtimeExitError = "Runtime.ExitError"
    public static let runtimeUnknown = "Runtime.Unknown"
    public static let functionUnknown = "Function.Unknown"
    public static let sandboxTimedOut = "Sandbox.Timedout"
    public static let extensionInitError = "Extension.InitError"
    public static let extensionExitError = "Extension.ExitError"
    public static let extensionCrash = "Extension.Crash"
    public static let extensionLaunchError = "Extension.LaunchError"
    public static let tooManyRequests = "TooManyRequestsException"
}
