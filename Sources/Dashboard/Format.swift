import Foundation

/// Number, time and size formatting shared by the screens.
enum Format {
    /// Local wall-clock time with milliseconds, e.g. `23:59:01.123`.
    static func clock(_ micros: Int64?) -> String {
        guard let micros else { return "--:--:--.---" }
        var seconds = time_t(micros / 1_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let ms = Int((micros % 1_000_000) / 1000)
        return String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, ms)
    }

    /// A duration in milliseconds: `0.8ms`, `123.4ms`, `1.23s`, `2m03s`.
    static func ms(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value < 0 { return "-" + ms(-value) }
        if value < 1000 { return String(format: "%.1fms", value) }
        if value < 60_000 { return String(format: "%.2fs", value / 1000) }
        let seconds = Int(value / 1000)
        return String(format: "%dm%02ds", seconds / 60, seconds % 60)
    }

    /// The time between two instants, in milliseconds.
    static func between(_ from: Int64?, _ to: Int64?) -> Double? {
        guard let from, let to else { return nil }
        return Double(to - from) / 1000
    }

    /// A count with thousands separators: `1,000,000`.
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// Bytes: `512 B`, `1.2 KB`, `3.4 MB`.
    static func bytes(_ n: Int?) -> String {
        guard let n else { return "-" }
        if n < 1024 { return "\(n) B" }
        if n < 1024 * 1024 { return String(format: "%.1f KB", Double(n) / 1024) }
        return String(format: "%.1f MB", Double(n) / 1024 / 1024)
    }

    /// The first 8 characters of a request id: enough to tell rows apart, short enough for the list.
    static func shortID(_ id: String?) -> String {
        guard let id else { return "-" }
        return String(id.prefix(8))
    }

    /// `text` cut to `width` (with an ellipsis) or padded with spaces.
    static func pad(_ text: String, _ width: Int, glyphs: Glyphs, right: Bool = false) -> String {
        guard width > 0 else { return "" }
        if text.count > width {
            return width == 1 ? String(text.prefix(1)) : String(text.prefix(width - 1)) + glyphs.ellipsis
        }
        let fill = String(repeating: " ", count: width - text.count)
        return right ? fill + text : text + fill
    }
}
