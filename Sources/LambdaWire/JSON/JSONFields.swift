// Typed reads of a parsed object without Codable, answering exactly as `JSONNodeDecoder`'s keyed container
// does, for the types the collector reads on every delivery (`TelemetryEvent+Node.swift`). The rules copied:
// opening an object resolves all its keys (a bad key fails it) and the first of equal keys wins
// (`JSONObjectKeys`); a required member must be there and be of the kind asked for, null included (null is
// refused, not absent); an optional member that is missing or null is nil; a scalar is resolved only when read.
// Errors are `JSONError(.shape)` instead of `DecodingError`: callers only learn that the input was refused.

/// The members of one JSON object, read as a keyed decoding container reads them.
public struct JSONFields {
    let keys: JSONObjectKeys

    public init(_ node: JSONNode) throws(JSONError) {
        guard case .object(let members) = node else { throw node.shapeError("an object") }
        keys = try JSONObjectKeys(members)
    }

    /// `decode(_:forKey:)`'s lookup: the member must be there.
    public func required(_ key: String) throws(JSONError) -> JSONNode {
        guard let node = keys.value(for: key) else { throw JSONError(.shape, "no member \"\(key)\"") }
        return node
    }

    /// `decodeIfPresent(_:forKey:)`'s lookup: missing and null are both nil.
    public func present(_ key: String) -> JSONNode? {
        guard let node = keys.value(for: key) else { return nil }
        if case .null = node { return nil }
        return node
    }

    /// `superDecoder(forKey:)`'s value: a missing member reads as null.
    public func orNull(_ key: String) -> JSONNode { keys.value(for: key) ?? .null }

    public func string(_ key: String) throws(JSONError) -> String { try required(key).stringValue() }
    public func double(_ key: String) throws(JSONError) -> Double { try required(key).doubleValue() }
    public func int(_ key: String) throws(JSONError) -> Int { try required(key).intValue() }
    public func strings(_ key: String) throws(JSONError) -> [String] { try required(key).stringArray() }

    public func optionalString(_ key: String) throws(JSONError) -> String? {
        guard let node = present(key) else { return nil }
        return try node.stringValue()
    }

    public func optionalDouble(_ key: String) throws(JSONError) -> Double? {
        guard let node = present(key) else { return nil }
        return try node.doubleValue()
    }

    public func optionalInt(_ key: String) throws(JSONError) -> Int? {
        guard let node = present(key) else { return nil }
        return try node.intValue()
    }

    /// `decodeFlexibleInt64(forKey:)` (ExtensionsAPI.swift): required; an integer, else a double that rounds to one.
    public func flexibleInt64(_ key: String) throws(JSONError) -> Int64 {
        try required(key).flexibleInt64()
    }

    /// `decodeFlexibleIntIfPresent` (ExtensionsAPI.swift): an integer, else a double that rounds to one.
    public func flexibleInt(_ key: String) throws(JSONError) -> Int? {
        guard let node = present(key) else { return nil }
        return Int(try node.flexibleInt64())
    }
}

extension JSONNode {
    func shapeError(_ expected: String) -> JSONError { JSONError(.shape, "expected \(expected), found \(kindName)") }

    /// A number read as an integer, or failing that as a double that rounds to one (`decodeFlexibleInt64`).
    func flexibleInt64() throws(JSONError) -> Int64 {
        guard case .number(let text) = self else { throw shapeError("a number") }
        if let exact = try? text.integer(Int64.self) { return exact }
        let value = try text.double()
        guard value.isFinite, abs(value) < 9.2e18 else { throw JSONError(.shape, "not an integer: \(value)", at: text.offset) }
        return Int64(value.rounded())
    }

    /// A String read through `singleValueContainer().decode(String.self)` (WireString types too).
    func stringValue() throws(JSONError) -> String {
        guard case .string(let text) = self else { throw shapeError("a string") }
        return try text.string()
    }

    func doubleValue() throws(JSONError) -> Double {
        guard case .number(let text) = self else { throw shapeError("a number") }
        return try text.double()
    }

    func intValue() throws(JSONError) -> Int {
        guard case .number(let text) = self else { throw shapeError("a number") }
        return try text.integer(Int.self)
    }

    /// `[String]`: an array whose every element is a string (null too is refused).
    func stringArray() throws(JSONError) -> [String] {
        guard case .array(let elements) = self else { throw shapeError("an array") }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements { strings.append(try element.stringValue()) }
        return strings
    }

    /// `[T]` whose elements are read by `read`.
    func array<T>(_ read: (JSONNode) throws(JSONError) -> T) throws(JSONError) -> [T] {
        guard case .array(let elements) = self else { throw shapeError("an array") }
        var values: [T] = []
        values.reserveCapacity(elements.count)
        for element in elements { values.append(try read(element)) }
        return values
    }
}
