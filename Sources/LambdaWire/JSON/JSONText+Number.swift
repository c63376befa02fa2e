// Resolving a number token, by Foundation's rules. The token must follow RFC 8259's grammar. A double is
// the correctly rounded value (strtod), refused when it overflows, or when it underflows to zero from
// digits that are not all zero. An integer type takes a plain integer exactly; any other number as the
// double it rounds to, when that is a whole number the type holds (so 1.0 and 1e2 are integers, 0.5 is
// not). From 2^53 up Foundation re-reads such a number through `Decimal` (and can trap on overflow); this
// reader takes the exact decimal value without its fraction there, and the differential tests leave that
// range out of the comparison.

extension JSONText {
    /// Whether the token follows the JSON number grammar: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    var isWellFormedNumber: Bool {
        var index = bytes.startIndex
        let end = bytes.endIndex
        func digits() -> Int {
            let start = index
            while index < end, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }
        if index < end, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end else { return false }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            return false
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == end
    }

    private var text: String { String(decoding: bytes, as: UTF8.self) }

    private func malformed() -> JSONError { JSONError(.invalidNumber, "malformed number \(text)", at: offset) }
    private func unrepresentable(_ type: Any.Type) -> JSONError {
        JSONError(.invalidNumber, "number \(text) does not fit \(type)", at: offset)
    }

    /// Whether a number that came out as 0 was written as zero (rather than underflowing). This follows
    /// Foundation's check byte for byte, quirk included: it looks at the input four bytes at a time from the
    /// front, but at the last one to three bytes back to front, so `0.000e5` counts as not zero there (the
    /// exponent's 5 is seen before the `e`), and the differential tests found it.
    private var isTrueZero: Bool {
        func check(_ byte: UInt8) -> Bool? {
            switch byte {
            case UInt8(ascii: "1")...UInt8(ascii: "9"): return false
            case UInt8(ascii: "e"), UInt8(ascii: "E"): return true
            default: return nil
            }
        }
        var index = bytes.startIndex
        while bytes.endIndex - index >= 4 {
            for k in 0..<4 { if let result = check(bytes[index + k]) { return result } }
            index += 4
        }
        for k in stride(from: bytes.endIndex - index - 1, through: 0, by: -1) {
            if let result = check(bytes[index + k]) { return result }
        }
        return true
    }

    /// The number as a binary floating-point value.
    public func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type = T.self)
        throws(JSONError) -> T
    {
        guard isWellFormedNumber, let value = T(text) else { throw malformed() }
        guard value.isFinite, value != 0 || isTrueZero else { throw unrepresentable(T.self) }
        return value
    }

    /// The number as a double.
    public func double() throws(JSONError) -> Double { try floatingPoint(Double.self) }

    /// The number as a fixed-width integer.
    public func integer<T: FixedWidthInteger>(_ type: T.Type = T.self) throws(JSONError) -> T {
        guard isWellFormedNumber else { throw malformed() }
        if let plain = plainInteger(T.self) { return plain }
        guard let double = Double(text) else { throw malformed() }
        guard let value = T(exactly: double) else { throw unrepresentable(T.self) }
        if double.magnitude < 9_007_199_254_740_992 { return value }  // 2^53
        guard let exact = truncatedDecimal(T.self) else { throw unrepresentable(T.self) }
        return exact
    }

    /// `-?[0-9]+` read exactly, or nil (other shapes, overflow).
    private func plainInteger<T: FixedWidthInteger>(_ type: T.Type) -> T? {
        var index = bytes.startIndex
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < bytes.endIndex else { return nil }
        var value: T = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = T(byte - UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
            index += 1
        }
        return value
    }

    /// The exact decimal value without its fraction, or nil when it does not fit.
    private func truncatedDecimal<T: FixedWidthInteger>(_ type: T.Type) -> T? {
        var digits: [UInt8] = []
        var pointShift = 0
        var exponent = 0
        var negative = false
        var index = bytes.startIndex
        var seenPoint = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "-") where index == bytes.startIndex: negative = true
            case UInt8(ascii: "."): seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte - UInt8(ascii: "0"))
                if seenPoint { pointShift += 1 }
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                exponent = Int(String(decoding: bytes[(index + 1)...], as: UTF8.self)) ?? Int.max
                index = bytes.endIndex
                continue
            default: break
            }
            index += 1
        }
        let wholeDigits = digits.count - pointShift + exponent
        guard wholeDigits <= 40 else { return nil }
        var value: T = 0
        for position in 0..<max(0, wholeDigits) {
            let digit = position < digits.count ? T(digits[position]) : 0
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = next
        }
        return value
    }
}
