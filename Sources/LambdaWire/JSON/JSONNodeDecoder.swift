// A Codable `Decoder` over `JSONNode`, so LambdaWire's Codable types decode without Foundation. It answers
// as FoundationEssentials' JSONDecoder does with default options (the differential tests compare them):
// an object's keys are all resolved when it is opened as a keyed container (a bad key fails it), the first
// of duplicate keys wins, and a scalar is resolved only when asked for.

/// Decodes `Decodable` values from JSON bytes or a parsed `JSONNode`.
public struct JSONNodeDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try decode(type, from: try JSONScanner.parse(bytes))
    }

    public func decode<T: Decodable>(_ type: T.Type, from node: JSONNode) throws -> T {
        try NodeDecoder(node: node).unwrap(T.self)
    }
}

/// A coding key made at run time (array positions, dictionary keys, super).
struct JSONCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }
    static let `super` = JSONCodingKey(stringValue: "super")
}

final class NodeDecoder: Decoder {
    let node: JSONNode
    /// The decoder of the enclosing value and this value's key in it: the coding path is only built when an
    /// error needs it (an array of keys per value cost more than the decoding).
    let parent: NodeDecoder?
    let key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: JSONNode, parent: NodeDecoder? = nil, key: (any CodingKey)? = nil) {
        self.node = node
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var decoder: NodeDecoder? = self
        while let current = decoder, let key = current.key {
            path.append(key)
            decoder = current.parent
        }
        return path.reversed()
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else { throw mismatch([String: Any].self) }
        let keys = try resolve { () throws(JSONError) in try JSONObjectKeys(members) }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, members: keys))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else { throw mismatch([Any].self) }
        return UnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ type: Any.Type) -> DecodingError {
        if case .null = node {
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Expected \(type) but found null."))
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected \(type) but found \(node.kindName)."))
    }

    /// Runs a scalar resolution, turning its `JSONError` into the `DecodingError` Codable callers expect.
    func resolve<T>(_ body: () throws(JSONError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    func child(_ node: JSONNode, _ key: any CodingKey) -> NodeDecoder {
        NodeDecoder(node: node, parent: self, key: key)
    }

    // MARK: scalars

    func unwrapBool() throws -> Bool {
        guard case .bool(let value) = node else { throw mismatch(Bool.self) }
        return value
    }

    func unwrapString() throws -> String {
        guard case .string(let text) = node else { throw mismatch(String.self) }
        return try resolve { () throws(JSONError) in try text.string() }
    }

    func unwrapInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let text) = node else { throw mismatch(T.self) }
        return try resolve { () throws(JSONError) in try text.integer(T.self) }
    }

    func unwrapFloat<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type) throws -> T {
        guard case .number(let text) = node else { throw mismatch(T.self) }
        return try resolve { () throws(JSONError) in try text.floatingPoint(T.self) }
    }

    func unwrap<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type: return try unwrapString() as! T
        case is Bool.Type: return try unwrapBool() as! T
        case is Int.Type: return try unwrapInteger(Int.self) as! T
        case is Int64.Type: return try unwrapInteger(Int64.self) as! T
        case is Double.Type: return try unwrapFloat(Double.self) as! T
        case is JSONValue.Type: return try resolve { () throws(JSONError) in try JSONValue(node: node) } as! T
        default: return try T(from: self)
        }
    }
}

extension NodeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = node { return true }
        return false
    }
    func decode(_ type: Bool.Type) throws -> Bool { try unwrapBool() }
    func decode(_ type: String.Type) throws -> String { try unwrapString() }
    func decode(_ type: Double.Type) throws -> Double { try unwrapFloat(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { try unwrapFloat(Float.self) }
    func decode(_ type: Int.Type) throws -> Int { try unwrapInteger(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try unwrapInteger(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try unwrapInteger(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try unwrapInteger(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try unwrapInteger(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try unwrapInteger(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unwrapInteger(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unwrapInteger(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unwrapInteger(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unwrapInteger(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try unwrap(T.self) }
}

struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let members: JSONObjectKeys

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members.value(for: key.stringValue) != nil }

    func node(_ key: Key) throws -> NodeDecoder {
        guard let node = members.value(for: key.stringValue) else {
            throw DecodingError.keyNotFound(key, .init(
                codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return decoder.child(node, key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try node(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try node(key).unwrapBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try node(key).unwrapString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try node(key).unwrapFloat(Double.self) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try node(key).unwrapFloat(Float.self) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try node(key).unwrapInteger(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try node(key).unwrapInteger(Int8.self) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try node(key).unwrapInteger(Int16.self) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try node(key).unwrapInteger(Int32.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try node(key).unwrapInteger(Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try node(key).unwrapInteger(UInt.self) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try node(key).unwrapInteger(UInt8.self) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try node(key).unwrapInteger(UInt16.self) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try node(key).unwrapInteger(UInt32.self) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try node(key).unwrapInteger(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try node(key).unwrap(T.self) }

    // Optional fields: one lookup instead of the default's three (contains, decodeNil, decode).
    private func present(_ key: Key) -> NodeDecoder? {
        guard let node = members.value(for: key.stringValue) else { return nil }
        if case .null = node { return nil }
        return decoder.child(node, key)
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.unwrapBool() }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key)?.unwrapString() }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.unwrapFloat(Double.self) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.unwrapInteger(Int.self) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(key)?.unwrapInteger(Int64.self) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try present(key)?.unwrap(T.self) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try node(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try node(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.child(members.value(for: JSONCodingKey.super.stringValue) ?? .null, JSONCodingKey.super)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.child(members.value(for: key.stringValue) ?? .null, key)
    }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let elements: [JSONNode]
    var currentIndex = 0

    init(decoder: NodeDecoder, elements: [JSONNode]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next(_ type: Any.Type) throws -> NodeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(
                codingPath: codingPath + [JSONCodingKey(intValue: currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        let element = decoder.child(elements[currentIndex], JSONCodingKey(intValue: currentIndex))
        currentIndex += 1
        return element
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any?.self, .init(
                codingPath: codingPath + [JSONCodingKey(intValue: currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).unwrapBool() }
    mutating func decode(_ type: String.Type) throws -> String { try next(type).unwrapString() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type).unwrapFloat(Double.self) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type).unwrapFloat(Float.self) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type).unwrapInteger(Int.self) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type).unwrapInteger(Int8.self) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type).unwrapInteger(Int16.self) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type).unwrapInteger(Int32.self) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).unwrapInteger(Int64.self) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).unwrapInteger(UInt.self) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).unwrapInteger(UInt8.self) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).unwrapInteger(UInt16.self) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).unwrapInteger(UInt32.self) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).unwrapInteger(UInt64.self) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).unwrap(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next([String: Any].self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([Any].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try next(Any.self) }
}
