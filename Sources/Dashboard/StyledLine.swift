/// What a piece of text means; the terminal maps it to colours or, without colour, to attributes.
public enum TextStyle: Sendable, Equatable, CaseIterable {
    case plain
    case dim
    case title
    case label
    case selected
    case tabActive
    case good
    case bad
    case warn
    case accent
    case match
}

/// A run of text in one style.
public struct StyledSpan: Sendable, Equatable {
    public var text: String
    public var style: TextStyle

    public init(_ text: String, _ style: TextStyle = .plain) {
        self.text = text
        self.style = style
    }
}

/// One screen row: spans left to right. `fill` is the style of the rest of the row (the selection bar).
public struct StyledLine: Sendable, Equatable {
    public var spans: [StyledSpan]
    public var fill: TextStyle

    public init(_ spans: [StyledSpan] = [], fill: TextStyle = .plain) {
        self.spans = spans
        self.fill = fill
    }

    public init(_ text: String, _ style: TextStyle = .plain) {
        self.init([StyledSpan(text, style)])
    }

    /// The row as plain text (what a test or a text capture sees).
    public var text: String { spans.map(\.text).joined() }

    /// Width in terminal cells. The dashboard only emits single-cell characters, so cells = characters.
    public var width: Int { spans.reduce(0) { $0 + Cells.count($1.text) } }

    /// Appends a span.
    public mutating func append(_ text: String, _ style: TextStyle = .plain) {
        spans.append(StyledSpan(text, style))
    }

    /// The row cut or padded to exactly `width` cells.
    public func fitted(to width: Int) -> StyledLine {
        var out: [StyledSpan] = []
        var left = width
        for span in spans where left > 0 {
            let count = Cells.count(span.text)
            if count <= left {
                out.append(span)
                left -= count
            } else {
                out.append(StyledSpan(String(span.text.prefix(left)), span.style))
                left = 0
            }
        }
        if left > 0 { out.append(StyledSpan(Cells.repeated(" ", left), fill)) }
        return StyledLine(out, fill: fill)
    }
}

/// The characters for lines, bars and markers: Unicode when the terminal speaks UTF-8, ASCII otherwise.
public struct Glyphs: Sendable, Equatable {
    public var horizontal: String
    public var vertical: String
    public var barRuntime: String
    public var barPostRuntime: String
    public var barEmpty: String
    public var barOverflow: String
    public var cold: String
    public var proxy: String
    public var arrow: String
    public var ellipsis: String
    public var dot: String
    /// Before an in-flight count: `×3` (Managed Instances).
    public var times: String = "×"
    /// The levels of the in-flight strip, lowest first (index 0 is "none").
    public var sparkLevels: [String] = ["·", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// Box drawing and block characters.
    public static let unicode = Glyphs(
        horizontal: "─", vertical: "│", barRuntime: "█", barPostRuntime: "▒", barEmpty: "·", barOverflow: "▶",
        cold: "❄", proxy: "◆", arrow: "→", ellipsis: "…", dot: "·")

    /// Plain ASCII for terminals without UTF-8.
    public static let ascii = Glyphs(
        horizontal: "-", vertical: "|", barRuntime: "#", barPostRuntime: "+", barEmpty: ".", barOverflow: ">",
        cold: "*", proxy: "P", arrow: "->", ellipsis: "~", dot: "-", times: "x",
        sparkLevels: [".", "_", "_", "-", "-", "=", "=", "#", "#"])
}

/// The two string operations every cell of every frame goes through, without their general-purpose cost
/// (through the standard library's versions, about a sixth of a frame's instructions).
enum Cells {
    /// The width of `text` in cells: its characters (the dashboard emits single-cell characters only).
    /// For ASCII text, the usual case, that is its byte count: no grapheme breaking needed.
    static func count(_ text: String) -> Int {
        for byte in text.utf8 where byte >= 0x80 { return text.count }
        return text.utf8.count
    }

    /// `text` repeated `count` times, its bytes copied straight into the new string (the standard library's
    /// `String(repeating:count:)` appends one copy at a time).
    static func repeated(_ text: String, _ count: Int) -> String {
        var unit = text
        return unit.withUTF8 { bytes in
            guard count > 0, !bytes.isEmpty else { return "" }
            return String(unsafeUninitializedCapacity: bytes.count * count) { buffer in
                var at = 0
                for _ in 0..<count {
                    for byte in bytes {
                        buffer[at] = byte
                        at += 1
                    }
                }
                return at
            }
        }
    }
}
