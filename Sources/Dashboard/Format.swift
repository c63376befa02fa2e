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
        return digits(Int(parts.tm_hour), 2) + ":" + digits(Int(parts.tm_min), 2) + ":" + digits(Int(parts.tm_sec), 2)
            + "." + digits(ms, 3)
    }

    /// A duration in milliseconds: `0.8ms`, `123.4ms`, `1.23s`, `2m03s`.
    static func ms(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        if value < 0 { return "-" + ms(-value) }
        if value < 1000 { return decimal(value, places: 1) + "ms" }
        if value < 60_000 { return decimal(value / 1000, places: 2) + "s" }
        let seconds = Int(value / 1000)
        return String(seconds / 60) + "m" + digits(seconds % 60, 2) + "s"
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
        if n < 1024 * 1024 { return decimal(Double(n) / 1024, places: 1) + " KB" }
        return decimal(Double(n) / 1024 / 1024, places: 1) + " MB"
    }

    // The list formats a dozen numbers per row on every frame; `String(format:)` goes through Foundation's
    // NSString formatting and CVarArg boxing, which was about 40% of a frame's instructions. These two do the
    // same for the few shapes the screens use.

    /// `n` (not negative) in decimal, zero-padded to `width` digits: `digits(7, 2)` is `07`.
    static func digits(_ n: Int, _ width: Int) -> String {
        let text = String(n)
        return text.utf8.count >= width ? text : Cells.repeated("0", width - text.utf8.count) + text
    }

    /// `value` (finite, not negative) with `places` decimals, rounded half away from zero: `decimal(2.345, places: 1)`
    /// is `2.3`. (printf rounds the exact binary value instead; the two differ only on ties like 0.15.)
    static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((value * Double(scale)).rounded())
        let whole = String(scaled / scale)
        return places == 0 ? whole : whole + "." + digits(scaled % scale, places)
    }

    /// The first 8 characters of a request id: enough to tell rows apart, short enough for the list.
    static func shortID(_ id: String?) -> String {
        guard let id else { return "-" }
        return String(id.prefix(8))
    }

    /// `text` cut to `width` (with an ellipsis) or padded with spaces.
    static func pad(_ text: String, _ width: Int, glyphs: Glyphs, right: Bool = false) -> String {
        guard width > 0 else { return "" }
        let count = Cells.count(text)
        if count > width {
            return width == 1 ? String(text.prefix(1)) : String(text.prefix(width - 1)) + glyphs.ellipsis
        }
        let fill = Cells.repeated(" ", width - count)
        return right ? fill + text : text + fill
    }
}
