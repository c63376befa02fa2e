// A Codable `Encoder` that writes compact JSON without Foundation: the values build a small tree (a keyed
// container may be written to in any order, and keys are sorted at the end as Foundation's `.sortedKeys`
// does), which `JSONWriter` then writes out.

/// Encodes `Encodable` values as compact JSON with sorted keys.
public struct JSONNodeEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let root = EncodedValue()
        try root.encode(value, codingPath: [])
        var writer = JSONWriter()
        try root.write(into: &writer)
        return writer.bytes
    }
}

/// A value under construction. A class: nested containers keep writing into their parent's slot.
final class EncodedValue {
    enum Kind { case empty, scalar, object, array }
    enum Scalar {
        case null, bool(Bool), string(String), integer(Int64), unsigned(UInt64), double(Double), float(Float)
    }

    private(set) var kind: Kind = .empty
    private var scalarValue: Scalar = .null
    private var members: [String: EncodedValue] = [:]
    private var elements: [EncodedValue] = []

    init() {}

    var count: Int { elements.count }

    func set(_ scalar: Scalar) {
        kind = .scalar
        scalarValue = scalar
    }

    func encode<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        switch value {
        case let v as String: set(.string(v))
        case let v as Bool: set(.bool(v))
        case let v as Int: set(.integer(Int64(v)))
        case let v as Int64: set(.integer(v))
        case let v as Double: set(.double(v))
        default: try value.encode(to: NodeEncoder(value: self, codingPath: codingPath))
        }
    }

    func makeObject() {
        if kind != .object { kind = .object }
    }

    func makeArray() {
        if kind != .array { kind = .array }
    }

    func objectSlot(_ key: String) -> EncodedValue {
        makeObject()
        if let slot = members[key] { return slot }
        let slot = EncodedValue()
        members[key] = slot
        return slot
    }

    func appendSlot() -> EncodedValue {
        makeArray()
        let slot = EncodedValue()
        elements.append(slot)
        return slot
    }

    func write(into writer: inout JSONWriter) throws(JSONError) {
        switch kind {
        case .empty:
            // A value that encoded nothing: Foundation writes an empty object.
            writer.raw("{}".utf8)
        case .scalar:
            switch scalarValue {
            case .null: writer.null()
            case .bool(let v): writer.bool(v)
            case .string(let v): writer.string(v)
            case .integer(let v): writer.integer(v)
            case .unsigned(let v): writer.integer(v)
            case .double(let v): try writer.double(v)
            case .float(let v): try writer.float(v)
            }
        case .object:
            writer.punctuation(UInt8(ascii: "{"))
            var first = true
            for key in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                if !first { writer.punctuation(UInt8(ascii: ",")) }
                first = false
                writer.key(key)
                try members[key]!.write(into: &writer)
            }
            writer.punctuation(UInt8(ascii: "}"))
        case .array:
            writer.punctuation(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { writer.punctuation(UInt8(ascii: ",")) }
                try element.write(into: &writer)
            }
            writer.punctuation(UInt8(ascii: "]"))
        }
    }
}

struct NodeEncoder: Encoder {
    let value: EncodedValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        value.makeObject()
        return KeyedEncodingContainer(KeyedEncoder<Key>(value: value, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        value.makeArray()
        return UnkeyedEncoder(value: value, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }
}

extension NodeEncoder: SingleValueEncodingContainer {
    func encodeNil() { value.set(.null) }
    func encode(_ v: Bool) { value.set(.bool(v)) }
    func encode(_ v: String) { value.set(.string(v)) }
    func encode(_ v: Double) { value.set(.double(v)) }
    func encode(_ v: Float) { value.set(.float(v)) }
    func encode(_ v: Int) { value.set(.integer(Int64(v))) }
    func encode(_ v: Int8) { value.set(.integer(Int64(v))) }
    func encode(_ v: Int16) { value.set(.integer(Int64(v))) }
    func encode(_ v: Int32) { value.set(.integer(Int64(v))) }
    func encode(_ v: Int64) { value.set(.integer(v)) }
    func encode(_ v: UInt) { value.set(.unsigned(UInt64(v))) }
    func encode(_ v: UInt8) { value.set(.unsigned(UInt64(v))) }
    func encode(_ v: UInt16) { value.set(.unsigned(UInt64(v))) }
    func encode(_ v: UInt32) { value.set(.unsigned(UInt64(v))) }
    func encode(_ v: UInt64) { value.set(.unsigned(v)) }
    func encode<T: Encodable>(_ v: T) throws { try value.encode(v, codingPath: codingPath) }
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let value: EncodedValue
    let codingPath: [any CodingKey]

    func slot(_ key: Key) -> EncodedValue { value.objectSlot(key.stringValue) }

    mutating func encodeNil(forKey key: Key) { slot(key).set(.null) }
    mutating func encode(_ v: Bool, forKey key: Key) { slot(key).set(.bool(v)) }
    mutating func encode(_ v: String, forKey key: Key) { slot(key).set(.string(v)) }
    mutating func encode(_ v: Double, forKey key: Key) { slot(key).set(.double(v)) }
    mutating func encode(_ v: Float, forKey key: Key) { slot(key).set(.float(v)) }
    mutating func encode(_ v: Int, forKey key: Key) { slot(key).set(.integer(Int64(v))) }
    mutating func encode(_ v: Int8, forKey key: Key) { slot(key).set(.integer(Int64(v))) }
    mutating func encode(_ v: Int16, forKey key: Key) { slot(key).set(.integer(Int64(v))) }
    mutating func encode(_ v: Int32, forKey key: Key) { slot(key).set(.integer(Int64(v))) }
    mutating func encode(_ v: Int64, forKey key: Key) { slot(key).set(.integer(v)) }
    mutating func encode(_ v: UInt, forKey key: Key) { slot(key).set(.unsigned(UInt64(v))) }
    mutating func encode(_ v: UInt8, forKey key: Key) { slot(key).set(.unsigned(UInt64(v))) }
    mutating func encode(_ v: UInt16, forKey key: Key) { slot(key).set(.unsigned(UInt64(v))) }
    mutating func encode(_ v: UInt32, forKey key: Key) { slot(key).set(.unsigned(UInt64(v))) }
    mutating func encode(_ v: UInt64, forKey key: Key) { slot(key).set(.unsigned(v)) }
    mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws {
        try slot(key).encode(v, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = slot(key)
        child.makeObject()
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(value: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = slot(key)
        child.makeArray()
        return UnkeyedEncoder(value: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(value: value.objectSlot(JSONCodingKey.super.stringValue), codingPath: codingPath + [JSONCodingKey.super])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(value: slot(key), codingPath: codingPath + [key])
    }
}

struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let value: EncodedValue
    let codingPath: [any CodingKey]

    var count: Int { value.count }

    func slot() -> EncodedValue { value.appendSlot() }

    mutating func encodeNil() { slot().set(.null) }
    mutating func encode(_ v: Bool) { slot().set(.bool(v)) }
    mutating func encode(_ v: String) { slot().set(.string(v)) }
    mutating func encode(_ v: Double) { slot().set(.double(v)) }
    mutating func encode(_ v: Float) { slot().set(.float(v)) }
    mutating func encode(_ v: Int) { slot().set(.integer(Int64(v))) }
    mutating func encode(_ v: Int64) { slot().set(.integer(v)) }
    mutating func encode(_ v: UInt64) { slot().set(.unsigned(v)) }
    mutating func encode<T: Encodable>(_ v: T) throws {
        try slot().encode(v, codingPath: codingPath + [JSONCodingKey(intValue: count)])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = slot()
        child.makeObject()
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(value: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = slot()
        child.makeArray()
        return UnkeyedEncoder(value: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(value: slot(), codingPath: codingPath) }
}
