// Writes JSON text into a byte array. Strings are escaped as RFC 8259 requires and no more: `"` and `\`,
// and the control characters below 0x20 (`\b \f \n \r \t` by name, the rest as `\u00XX`); `/` and non-ASCII
// stay as they are, as FoundationEssentials' JSONEncoder writes them with `.withoutEscapingSlashes`.

/// Appends JSON tokens to `bytes`.
public struct JSONWriter: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func null() { bytes.append(contentsOf: "null".utf8) }

    public mutating func bool(_ value: Bool) { bytes.append(contentsOf: (value ? "true" : "false").utf8) }

    public mutating func integer(_ value: some FixedWidthInteger) { bytes.append(contentsOf: String(value).utf8) }

    /// A finite double, written as Swift's shortest round-tripping form without a trailing `.0` (as
    /// Foundation writes it). JSON has no NaN or infinity.
    public mutating func double(_ value: Double) throws(JSONError) {
        guard value.isFinite else { throw JSONError(.unwritableNumber, "\(value) is not a JSON number") }
        appendDroppingPointZero(value.description)
    }

    /// A finite float, in Float's own shortest form (not widened to Double's digits).
    public mutating func float(_ value: Float) throws(JSONError) {
        guard value.isFinite else { throw JSONError(.unwritableNumber, "\(value) is not a JSON number") }
        appendDroppingPointZero(value.description)
    }

    /// `text` without a trailing `.0`, looked at as bytes: `hasSuffix` and `removeLast` walk Characters.
    private mutating func appendDroppingPointZero(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var count = utf8.count
            if count >= 2, utf8[count - 1] == UInt8(ascii: "0"), utf8[count - 2] == UInt8(ascii: ".") { count -= 2 }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<count]))
        }
    }

    /// A string, quoted and escaped.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            let count = utf8.count
            var runStart = 0
            var index = 0
            while index < count {
                // Eight bytes at a time while none of them needs escaping: most strings need none.
                if count - index >= 8,
                   !ByteWord.needsEscape(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                    index += 8
                    continue
                }
                let byte = utf8[index]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    runStart = index + 1
                    appendEscape(byte)
                }
                index += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            hex.withUTF8Buffer { digits in
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
            }
        }
    }

    /// Raw structural bytes: `{`, `}`, `[`, `]`, `,`, `:`.
    public mutating func punctuation(_ byte: UInt8) { bytes.append(byte) }

    /// `"key":`.
    public mutating func key(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Bytes that are already JSON (a value another writer produced).
    public mutating func raw(_ json: some Sequence<UInt8>) { bytes.append(contentsOf: json) }
}
