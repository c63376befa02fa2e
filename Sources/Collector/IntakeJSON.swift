// A JSON document as a value, read and written by LambdaWire's Foundation-free JSON (`JSONScanner`,
// `JSONWriter`; held to FoundationEssentials' answers by the differential tests). Used where the collector edits JSON it did not write (the agent's registered transaction) or builds
// events whose shape is open (samples keyed by metric name). Integers stay integers: the APM Server
// decodes timestamps and counts into integer fields and rejects `1.7e+15`.

import LambdaWire
import NIOCore

/// Any JSON value (integers kept apart from doubles, unlike LambdaWire.JSONValue).
enum IntakeJSON: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([IntakeJSON])
    case object([String: IntakeJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([IntakeJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: IntakeJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object, nil otherwise.
    public subscript(key: String) -> IntakeJSON? {
        get {
            if case .object(let members) = self { return members[key] }
            return nil
        }
        set {
            guard case .object(var members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    /// The string payload, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

extension IntakeJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByArrayLiteral
{
    public init(arrayLiteral elements: IntakeJSON...) { self = .array(elements) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(dictionaryLiteral elements: (String, IntakeJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// JSON <-> ByteBuffer for the collector's own events (one line each, no trailing newline): compact, keys
/// sorted, `/` unescaped (byte for byte what FoundationEssentials' JSONEncoder wrote with those options).
enum JSONLine {
    static func encode(_ value: some Encodable) -> ByteBuffer {
        // Encoding our own value types cannot fail (no non-finite doubles reach here: see `finite`).
        if let json = value as? IntakeJSON {
            var writer = JSONWriter()
            guard (try? json.write(into: &writer)) != nil else { return ByteBuffer(string: "{}") }
            return ByteBuffer(bytes: writer.bytes)
        }
        return ByteBuffer(bytes: (try? JSONNodeEncoder().encode(value)) ?? Array("{}".utf8))
    }

    static func decode<T: Decodable>(_ type: T.Type, from line: ByteBuffer) throws -> T {
        try decode(type, bytes: line.readableBytesView)
    }

    static func decode<T: Decodable>(_ type: T.Type, bytes: some Collection<UInt8>) throws -> T {
        let node = try JSONScanner.parse(bytes)
        if type == IntakeJSON.self { return try IntakeJSON(node: node) as! T }
        return try JSONNodeDecoder().decode(type, from: node)
    }

    /// A double the encoder accepts (JSON has no NaN or infinity).
    static func finite(_ value: Double) -> Double { value.isFinite ? value : 0 }
}
