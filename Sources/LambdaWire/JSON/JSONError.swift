/// Why JSON could not be read or written.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The bytes are not JSON (structure, literal, unterminated string).
        case syntax
        /// More than `JSONScanner.maxDepth` nested arrays and objects.
        case tooDeep
        /// A string holds a control character, a bad escape, an unpaired surrogate or bytes that are not UTF-8.
        case invalidString
        /// A number is malformed or does not fit the type asked for.
        case invalidNumber
        /// The input is UTF-16 or UTF-32 that does not transcode.
        case invalidEncoding
        /// A double that JSON cannot hold (NaN, infinity) was to be written.
        case unwritableNumber
        /// A member a direct reader needs is missing, or a value is not the kind it needs (`JSONFields`): what a
        /// Codable decode reports as `keyNotFound`, `valueNotFound` or `typeMismatch`.
        case shape
    }

    public var code: Code
    /// Byte offset into the input where the problem was seen, when known.
    public var offset: Int?
    public var message: String

    public init(_ code: Code, _ message: String, at offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(code.rawValue) at byte \(offset): \(message)" }
        return "\(code.rawValue): \(message)"
    }
}
