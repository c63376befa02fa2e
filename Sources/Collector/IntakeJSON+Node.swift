// `IntakeJSON` straight from a parsed `JSONNode` and straight into a `JSONWriter`, without a round through
// Codable containers. Each gives what the Codable path gives (`init(from:)` tries Bool, Int64, Double,
// String, array, object in turn; `encode(to:)` through `JSONNodeEncoder`), which the tests check.

import LambdaWire

extension IntakeJSON {
    /// The value of `node`; throws where `init(from:)` would: a number that is neither an Int64 nor a finite
    /// double, a string that does not resolve, an object key that does not resolve.
    init(node: JSONNode) throws(JSONError) {
        switch node {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let text):
            if let value = try? text.integer(Int64.self) {
                self = .int(value)
            } else {
                self = .double(try text.double())
            }
        case .string(let text): self = .string(try text.string())
        case .array(let elements):
            var values: [IntakeJSON] = []
            values.reserveCapacity(elements.count)
            for element in elements { values.append(try IntakeJSON(node: element)) }
            self = .array(values)
        case .object(let members):
            // Every key is resolved before any value, and the first of equal keys wins, as in a keyed container.
            var keys: [String] = []
            keys.reserveCapacity(members.count)
            for member in members { keys.append(try member.key.string()) }
            var table: [String: IntakeJSON] = [:]
            table.reserveCapacity(members.count)
            for (key, member) in zip(keys, members) where table[key] == nil {
                table[key] = try IntakeJSON(node: member.value)
            }
            self = .object(table)
        }
    }

    /// Writes this value compactly, object keys sorted by their UTF-8 bytes.
    func write(into writer: inout JSONWriter) throws(JSONError) {
        switch self {
        case .null: writer.null()
        case .bool(let value): writer.bool(value)
        case .int(let value): writer.integer(value)
        case .double(let value): try writer.double(value)
        case .string(let value): writer.string(value)
        case .array(let values):
            writer.punctuation(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { writer.punctuation(UInt8(ascii: ",")) }
                try value.write(into: &writer)
            }
            writer.punctuation(UInt8(ascii: "]"))
        case .object(let members):
            writer.punctuation(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { writer.punctuation(UInt8(ascii: ",")) }
                writer.key(key)
                try members[key]!.write(into: &writer)
            }
            writer.punctuation(UInt8(ascii: "}"))
        }
    }
}
