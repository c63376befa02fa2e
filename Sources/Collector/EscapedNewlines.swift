// PEM text in one environment variable: Elastic accepts the two characters `\n` where the certificate has a
// line break, since a variable set from a console or a template cannot hold newlines.
// Written over UTF-8 bytes rather than with `replacing(_:with:)`, which lives in _StringProcessing: that
// library's code is one 400 KB section, and calling into it at start-up kept 0.5–0.8 MB more of the layer binary
// resident (docs/layer.md, Memory).

extension String {
    /// The text with each two-character `\n` turned into a newline.
    func unescapingNewlines() -> String {
        let bytes = Array(utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "n") {
                out.append(UInt8(ascii: "\n"))
                index += 2
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
