// Resolving a string's raw bytes, by Foundation's rules: no byte below 0x20 unescaped, the escapes
// `\" \\ \/ \b \f \n \r \t \uXXXX`, a high surrogate only with a low one after it, valid UTF-8 otherwise.

extension JSONText {
    /// The string these raw bytes spell.
    public func string() throws(JSONError) -> String {
        // Most strings have no escape and no control byte: validate them as UTF-8 in one go.
        enum Simple { case text(String), invalid, needsEscapes }
        let simple: Simple = bytes.withUnsafeBufferPointer { buffer in
            var ascii = true
            var start = 0
            // Eight bytes at a time while they are printable ASCII without a backslash (a quote cannot be there
            // unescaped); from the first word that is not, byte by byte.
            if let base = buffer.baseAddress {
                while buffer.count - start >= 8 {
                    let word = UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self)
                    if ByteWord.needsEscape(word) || ByteWord.hasNonASCII(word) { break }
                    start += 8
                }
            }
            for byte in UnsafeBufferPointer(rebasing: buffer[start...]) {
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return .needsEscapes }
                if byte >= 0x80 { ascii = false }
            }
            // ASCII is valid UTF-8 as it stands; `String(validating:)` would still pay for generic metadata
            // (`Unicode.ParseResult`) on every call, most of a short string's cost.
            if ascii { return .text(String(decoding: buffer, as: UTF8.self)) }
            return String(validating: buffer, as: UTF8.self).map(Simple.text) ?? .invalid
        }
        switch simple {
        case .text(let text): return text
        case .invalid: throw JSONError(.invalidString, "string is not valid UTF-8", at: offset)
        case .needsEscapes: break
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte < 0x20 {
                throw JSONError(.invalidString, "unescaped control character \(byte) in a string", at: index)
            }
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            // The scanner saw at least one byte after every backslash, and four after `\u`.
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try hexUnit(at: index)
                index += 4
                let scalar: Unicode.Scalar
                if UTF16.isLeadSurrogate(unit) {
                    guard bytes.endIndex - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                          bytes[index + 1] == UInt8(ascii: "u")
                    else { throw JSONError(.invalidString, "high surrogate without a low one", at: index) }
                    let trail = try hexUnit(at: index + 2)
                    guard UTF16.isTrailSurrogate(trail) else {
                        throw JSONError(.invalidString, "high surrogate without a low one", at: index)
                    }
                    index += 6
                    scalar = UTF16.decode(UTF16.EncodedScalar([unit, trail]))
                } else {
                    guard let single = Unicode.Scalar(unit) else {
                        throw JSONError(.invalidString, "unpaired low surrogate", at: index - 6)
                    }
                    scalar = single
                }
                output.append(contentsOf: UTF8.encode(scalar)!)
            default:
                throw JSONError(.invalidString, "invalid escape \\\(Unicode.Scalar(escaped))", at: index - 2)
            }
        }
        // Escapes produce valid UTF-8 and split no sequence, so validating the whole is validating each run.
        guard let text = String(validating: output, as: UTF8.self) else {
            throw JSONError(.invalidString, "string is not valid UTF-8", at: offset)
        }
        return text
    }

    /// Four hex digits at `index` as a UTF-16 code unit.
    private func hexUnit(at index: Int) throws(JSONError) -> UInt16 {
        guard bytes.endIndex - index >= 4 else { throw JSONError(.invalidString, "short \\u escape", at: index) }
        var unit: UInt16 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONError(.invalidString, "invalid hex digit in \\u escape", at: index)
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }
}
