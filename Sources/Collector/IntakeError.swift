// Why the receiver refused (part of) what an agent sent.

/// An error in what an agent sent to the receiver; `code` decides the HTTP status.
public struct IntakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The body is larger than the configured cap (before or after decompression): 413.
        case bodyTooLarge
        /// The body could not be decompressed with its Content-Encoding: 400 (intake), 422 (registration).
        case undecodableBody
        /// A line is not a JSON object with a known event key: 400 (intake), 422 (registration).
        case malformedLine
        /// `/register/transaction` without the transaction ndjson content type: 415.
        case unsupportedContentType
        /// `/register/transaction` without `x-elastic-aws-request-id`: 400.
        case missingRequestID
        /// A registration without a transaction line or without `transaction.id`: 422.
        case missingTransaction
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// An error of the receiver itself (not of what an agent sent).
public struct ReceiverError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// `start()` was called twice, or after `stop()`.
        case alreadyStarted
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
