/// Paths and headers of the Extensions API (2020-01-01).
public enum ExtensionsAPI {
    public static let version = "2020-01-01"
    public static let prefix = "/2020-01-01"

    public static let registerPath = "/2020-01-01/extension/register"
    public static let nextPath = "/2020-01-01/extension/event/next"
    public static let initErrorPath = "/2020-01-01/extension/init/error"
    public static let exitErrorPath = "/2020-01-01/extension/exit/error"

    /// At most this many extensions per function.
    public static let maxExtensions = 10

    /// Headers of the Extensions API.
    public enum Header {
        public static let name = "Lambda-Extension-Name"
        public static let identifier = "Lambda-Extension-Identifier"
        public static let eventIdentifier = "Lambda-Extension-Event-Identifier"
        public static let acceptFeature = "Lambda-Extension-Accept-Feature"
        public static let functionErrorType = "Lambda-Extension-Function-Error-Type"
    }
}

/// The events an extension can subscribe to.
public enum ExtensionEventType: String, Codable, Sendable, CaseIterable {
    case invoke = "INVOKE"
    case shutdown = "SHUTDOWN"
}

/// The body of `POST /extension/register`.
public struct RegisterRequest: Codable, Sendable, Equatable {
    public var events: [ExtensionEventType]

    public init(events: [ExtensionEventType]) { self.events = events }
}

/// The body of the register response (the id comes in the `Lambda-Extension-Identifier` header).
public struct RegisterResponse: Codable, Sendable, Equatable {
    public var functionName: String
    public var functionVersion: String
    public var handler: String
    public var accountId: String?

    public init(functionName: String, functionVersion: String, handler: String, accountId: String? = nil) {
        self.functionName = functionName
        self.functionVersion = functionVersion
        self.handler = handler
        self.accountId = accountId
    }
}

/// Why the environment shuts down. Lambda sends lowercase values; RIE sends its own (`Timeout`, `ReleaseFail`,
/// `SandboxTerminated`), which are kept as they came.
public struct ShutdownReason: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let spindown = ShutdownReason(rawValue: "spindown")
    public static let timeout = ShutdownReason(rawValue: "timeout")
    public static let failure = ShutdownReason(rawValue: "failure")

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { rawValue }
}

/// The `tracing` field of an INVOKE event.
public struct InvokeTracing: Codable, Sendable, Equatable {
    public var type: String
    public var value: String

    public init(type: String = "X-Amzn-Trace-Id", value: String) {
        self.type = type
        self.value = value
    }
}

/// An event returned by `GET /extension/event/next`: INVOKE or SHUTDOWN.
public struct ExtensionEvent: Codable, Sendable, Equatable {
    public var eventType: ExtensionEventType
    /// Epoch milliseconds: the invoke deadline, or for SHUTDOWN the kill time.
    public var deadlineMs: Int64
    public var requestId: String?
    public var invokedFunctionArn: String?
    /// Optional: RIE omits it when the caller sent no trace id.
    public var tracing: InvokeTracing?
    public var shutdownReason: ShutdownReason?

    public init(
        eventType: ExtensionEventType, deadlineMs: Int64, requestId: String? = nil, invokedFunctionArn: String? = nil,
        tracing: InvokeTracing? = nil, shutdownReason: ShutdownReason? = nil
    ) {
        self.eventType = eventType
        self.deadlineMs = deadlineMs
        self.requestId = requestId
        self.invokedFunctionArn = invokedFunctionArn
        self.tracing = tracing
        self.shutdownReason = shutdownReason
    }

    /// An INVOKE event.
    public static func invoke(requestId: String, deadlineMs: Int64, invokedFunctionArn: String, tracing: InvokeTracing?) -> Self {
        ExtensionEvent(eventType: .invoke, deadlineMs: deadlineMs, requestId: requestId,
                       invokedFunctionArn: invokedFunctionArn, tracing: tracing)
    }

    /// A SHUTDOWN event.
    public static func shutdown(reason: ShutdownReason, deadlineMs: Int64) -> Self {
        ExtensionEvent(eventType: .shutdown, deadlineMs: deadlineMs, shutdownReason: reason)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        eventType = try c.decode(ExtensionEventType.self, forKey: .eventType)
        deadlineMs = try c.decodeFlexibleInt64(forKey: .deadlineMs)
        requestId = try c.decodeIfPresent(String.self, forKey: .requestId)
        invokedFunctionArn = try c.decodeIfPresent(String.self, forKey: .invokedFunctionArn)
        tracing = try c.decodeIfPresent(InvokeTracing.self, forKey: .tracing)
        shutdownReason = try c.decodeIfPresent(ShutdownReason.self, forKey: .shutdownReason)
    }
}

extension KeyedDecodingContainer {
    /// Integers sometimes come as `1.7e12` or `50.0`: accept any JSON number that is integral enough.
    func decodeFlexibleInt64(forKey key: Key) throws -> Int64 {
        if let v = try? decode(Int64.self, forKey: key) { return v }
        let d = try decode(Double.self, forKey: key)
        guard d.isFinite, abs(d) < 9.2e18 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an integer: \(d)")
        }
        return Int64(d.rounded())
    }

    func decodeFlexibleIntIfPresent(forKey key: Key) throws -> Int? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return Int(try decodeFlexibleInt64(forKey: key))
    }
}
