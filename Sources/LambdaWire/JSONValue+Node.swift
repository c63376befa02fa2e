// `JSONValue` straight from a parsed `JSONNode`, with the answers its Codable `init(from:)` gives through
// `JSONNodeDecoder` (it tries null, Bool, Double, String, array, object in turn): the decoder takes this
// path for JSONValue, which a function's JSON log line is, without a thrown error per failed guess.

extension JSONValue {
    init(node: JSONNode) throws(JSONError) {
        switch node {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number(let text): self = .number(try text.double())
        case .string(let text): self = .string(try text.string())
        case .array(let elements):
            var values: [JSONValue] = []
            values.reserveCapacity(elements.count)
            for element in elements { values.append(try JSONValue(node: element)) }
            self = .array(values)
        case .object(let members):
            // Every key resolves before any value; the first of equal keys wins (a keyed container's rules).
            let keys = try JSONObjectKeys(members)
            var table: [String: JSONValue] = [:]
            table.reserveCapacity(members.count)
            for key in keys.keys { table[key] = try JSONValue(node: keys.value(for: key)!) }
            self = .object(table)
        }
    }
}
