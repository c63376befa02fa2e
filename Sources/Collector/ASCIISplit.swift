// `split(separator:)` for protocol text (URIs, header values) at an ASCII byte, walking UTF-8 instead of
// Characters: the stdlib's version breaks graphemes at every step, and splitting the X-Ray header, the request
// URI and the query cost ~80k instructions per invocation (5% of the extension's, callgrind). Same pieces as the
// stdlib's wherever no combining mark follows a separator (`ASCIISplitTests` holds it to that oracle).

extension StringProtocol where SubSequence == Substring {
    /// The pieces between occurrences of the ASCII byte `separator`, with `split`'s `maxSplits` and
    /// `omittingEmptySubsequences` meaning what they mean there.
    func split(ascii separator: UInt8, maxSplits: Int = .max, omittingEmptySubsequences: Bool = true) -> [Substring] {
        precondition(separator < 0x80, "split(ascii:) takes an ASCII separator")
        var pieces: [Substring] = []
        let bytes = utf8
        var start = bytes.startIndex
        if maxSplits > 0 {
            var index = start
            while index != bytes.endIndex {
                if bytes[index] == separator {
                    let appended = !(omittingEmptySubsequences && start == index)
                    if appended { pieces.append(self[start..<index]) }
                    bytes.formIndex(after: &index)
                    start = index
                    if appended && pieces.count == maxSplits { break }
                } else {
                    bytes.formIndex(after: &index)
                }
            }
        }
        if start != bytes.endIndex || !omittingEmptySubsequences { pieces.append(self[start..<bytes.endIndex]) }
        return pieces
    }

    /// The text before and after the first `separator` byte (nil when there is none).
    func splitOnce(ascii separator: UInt8) -> (Substring, Substring?) {
        guard let at = utf8.firstIndex(of: separator) else { return (self[...], nil) }
        return (self[..<at], self[utf8.index(after: at)...])
    }
}
