// A parsed JSON document whose strings and numbers are still raw bytes: the scanner checks structure only,
// and a string or number is resolved (escapes, UTF-8, number grammar) when someone reads it. That is what
// FoundationEssentials' JSONDecoder does too, and the collector depends on the same answers: a transaction
// line with a malformed number in a field nobody reads is accepted by both.

/// One JSON value; strings and numbers are resolved on access.
public enum JSONNode: Sendable {
    case null
    case bool(Bool)
    case string(JSONText)
    case number(JSONText)
    case array([JSONNode])
    case object([JSONMember])

    /// The first member named `key` of an object (the one Foundation's decoder keeps), nil otherwise.
    /// Keys are compared as Swift strings, so canonically equivalent spellings match, as they do in a Dictionary.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key.matches(key) { return member.value }
        return nil
    }

    /// What kind of value this is, for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .string: "a string"
        case .number: "a number"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One `"key": value` of an object, the key still raw.
public struct JSONMember: Sendable {
    public var key: JSONText
    public var value: JSONNode
}

/// The raw bytes of a string (between the quotes) or of a number token.
public struct JSONText: Sendable {
    public var bytes: ArraySlice<UInt8>
    /// Offset of the first byte in the (UTF-8) input, for error messages.
    public var offset: Int { bytes.startIndex }

    public init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// Whether this string equals `key` as Swift compares strings. Plain ASCII bytes compare as bytes (an ASCII
    /// string is canonically equivalent only to itself); anything else is resolved first.
    func matches(_ key: String) -> Bool {
        let plain = !bytes.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\\") }
        if plain, key.utf8.allSatisfy({ $0 < 0x80 }) { return bytes.elementsEqual(key.utf8) }
        return (try? string()) == key
    }
}
