import Foundation
import LanternStore

/// Parses `--since`: a duration back from now (`90s`, `15m`, `2h`, `3d`, `1h30m`) or an ISO-8601 time.
enum SinceParser {
    static func epochMicros(_ text: String, now: Int64 = LanternStore.epochMicros()) throws(QueryFailure) -> Int64 {
        if let seconds = durationSeconds(text) { return now - seconds * 1_000_000 }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
        }
        throw QueryFailure(
            "bad --since '\(text)': use a duration like 90s, 15m, 2h, 3d or an ISO-8601 time like 2026-11-25T23:00:00Z")
    }

    /// `1h30m` → 5400; nil unless the whole text is number+unit pairs.
    static func durationSeconds(_ text: String) -> Int64? {
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let number = Int64(digits) else { return nil }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            default: return nil
            }
            let (product, overflow) = number.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            total += product
            digits = ""
            sawUnit = true
        }
        return sawUnit && digits.isEmpty ? total : nil
    }
}
