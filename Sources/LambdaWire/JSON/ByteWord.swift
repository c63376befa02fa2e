// Eight bytes at once, for the JSON reader's and writer's scans: most strings need neither escaping nor decoding,
// and testing a word costs about what testing one byte does. Each test is the classic "has a byte less than n" /
// "has a zero byte" word trick, exact as a yes/no answer (which byte it was is left to a byte loop).

/// Tests over the eight bytes of a `UInt64` loaded from a buffer (their order does not matter to a yes/no answer).
enum ByteWord {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether any byte is below 0x20, a quote or a backslash: what a JSON string must escape.
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quoteFound = (quote &- ones) & ~quote & highs
        let backslashFound = (backslash &- ones) & ~backslash & highs
        return (control | quoteFound | backslashFound) != 0
    }

    /// Whether any byte is 0x80 or above (not ASCII).
    @inline(__always)
    static func hasNonASCII(_ word: UInt64) -> Bool { word & highs != 0 }
}
