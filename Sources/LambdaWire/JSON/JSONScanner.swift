// Reads the structure of a JSON document into `JSONNode`s. It accepts exactly what FoundationEssentials'
// JSONDecoder scans (the differential tests in LambdaWireTests hold it to that): RFC 8259 plus a trailing
// comma before `]` or `}`, a UTF-8 byte order mark, UTF-16/32 input told apart by its first bytes, at most
// 512 nested arrays and objects. As there, a string or number is only delimited here and checked when read
// (`JSONText.string()`, `.integer()`, `.double()`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses JSON bytes into a `JSONNode` tree.
public enum JSONScanner {
    /// Foundation's limit: a 513th nested `[` or `{` is refused.
    public static let maxDepth = 512

    /// Parses a whole document: one value, whitespace around it, nothing else.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONNode {
        let input = try JSONInputEncoding.utf8(Array(bytes))
        // Bytes are read through a pointer (no bounds check per byte in release builds); strings and numbers
        // keep slices of the array, which owns the bytes.
        return try input.withUnsafeBufferPointer { (base) throws(JSONError) -> JSONNode in
            var reader = Reader(owner: input, bytes: base)
            let value = try reader.value()
            try reader.skipWhitespace(allowingEnd: true)
            guard reader.index == base.endIndex else {
                throw JSONError(.syntax, "unexpected byte after the top-level value", at: reader.index)
            }
            return value
        }
    }

    struct Reader {
        let owner: [UInt8]
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var depth = 0

        init(owner: [UInt8], bytes: UnsafeBufferPointer<UInt8>) {
            self.owner = owner
            self.bytes = bytes
        }

        /// Skips JSON whitespace; with `allowingEnd` false, running out of input is an error.
        mutating func skipWhitespace(allowingEnd: Bool = false) throws(JSONError) {
            while index < bytes.endIndex {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
            if !allowingEnd { throw JSONError(.syntax, "unexpected end of input", at: index) }
        }

        mutating func value() throws(JSONError) -> JSONNode {
            try skipWhitespace()
            switch bytes[index] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(number())
            default:
                throw JSONError(.syntax, "unexpected byte \(bytes[index]) where a value should start", at: index)
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONError) {
            let count = word.utf8CodeUnitCount
            guard bytes.endIndex - index >= count else { throw JSONError(.syntax, "unexpected end of input", at: index) }
            let matches = word.withUTF8Buffer { expected in
                expected.elementsEqual(UnsafeBufferPointer(rebasing: bytes[index..<index + count]))
            }
            guard matches else { throw JSONError(.syntax, "invalid literal, expected \(word)", at: index) }
            index += count
        }

        /// A number token: a sign or digit, then any run of digits, `.`, `+`, `-`, `e`, `E` (checked when read).
        mutating func number() -> JSONText {
            let start = index
            index += 1
            while index < bytes.endIndex {
                switch bytes[index] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"),
                     UInt8(ascii: "e"), UInt8(ascii: "E"):
                    index += 1
                default:
                    return JSONText(owner[start..<index])
                }
            }
            return JSONText(owner[start..<index])
        }

        /// A string's raw bytes. Only the closing quote is looked for here: after a backslash one byte is skipped,
        /// and after `\u` four bytes, none of which may be a quote.
        mutating func string() throws(JSONError) -> JSONText {
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else {
                throw JSONError(.syntax, "expected a string", at: index)
            }
            index += 1
            let start = index
            // Most strings have no escape: find the closing quote with memchr (vectorised) and check the span
            // for a backslash the same way; a string with one is walked byte by byte below.
            if let base = bytes.baseAddress, index < bytes.endIndex,
               let quote = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.endIndex - index) {
                let end = base.distance(to: quote.assumingMemoryBound(to: UInt8.self))
                if memchr(base + index, Int32(UInt8(ascii: "\\")), end - index) == nil {
                    index = end + 1
                    return JSONText(owner[start..<end])
                }
            }
            while index < bytes.endIndex {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    defer { index += 1 }
                    return JSONText(owner[start..<index])
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.endIndex else { break }
                    let escaped = bytes[index]
                    index += 1
                    if escaped == UInt8(ascii: "u") {
                        guard bytes.endIndex - index >= 4 else {
                            throw JSONError(.syntax, "unexpected end of input in \\u escape", at: index)
                        }
                        guard bytes[index] != UInt8(ascii: "\""), bytes[index + 1] != UInt8(ascii: "\""),
                              bytes[index + 2] != UInt8(ascii: "\""), bytes[index + 3] != UInt8(ascii: "\"") else {
                            throw JSONError(.invalidString, "quote inside a \\u escape", at: index)
                        }
                        index += 4
                    }
                default:
                    index += 1
                }
            }
            throw JSONError(.syntax, "unterminated string", at: start - 1)
        }

        mutating func enter() throws(JSONError) {
            guard depth < JSONScanner.maxDepth else {
                throw JSONError(.tooDeep, "more than \(JSONScanner.maxDepth) nested arrays and objects", at: index)
            }
            depth += 1
        }

        mutating func array() throws(JSONError) -> JSONNode {
            try enter()
            defer { depth -= 1 }
            index += 1
            try skipWhitespace()
            var elements: [JSONNode] = []
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            // One allocation for most arrays and objects instead of regrowing from one element.
            elements.reserveCapacity(4)
            while true {
                elements.append(try value())
                try skipWhitespace()
                switch bytes[index] {
                case UInt8(ascii: "]"):
                    index += 1
                    return .array(elements)
                case UInt8(ascii: ","):
                    index += 1
                    try skipWhitespace()
                    // Foundation accepts one trailing comma.
                    if bytes[index] == UInt8(ascii: "]") {
                        index += 1
                        return .array(elements)
                    }
                default:
                    throw JSONError(.syntax, "expected , or ] in array", at: index)
                }
            }
        }

        mutating func object() throws(JSONError) -> JSONNode {
            try enter()
            defer { depth -= 1 }
            index += 1
            try skipWhitespace()
            var members: [JSONMember] = []
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            members.reserveCapacity(8)
            while true {
                let key = try string()
                try skipWhitespace()
                guard bytes[index] == UInt8(ascii: ":") else {
                    throw JSONError(.syntax, "expected : after an object key", at: index)
                }
                index += 1
                members.append(JSONMember(key: key, value: try value()))
                try skipWhitespace()
                switch bytes[index] {
                case UInt8(ascii: "}"):
                    index += 1
                    return .object(members)
                case UInt8(ascii: ","):
                    index += 1
                    try skipWhitespace()
                    // Foundation accepts one trailing comma.
                    if bytes[index] == UInt8(ascii: "}") {
                        index += 1
                        return .object(members)
                    }
                default:
                    throw JSONError(.syntax, "expected , or } in object", at: index)
                }
            }
        }
    }
}
