// Function log lines carry their level in two common shapes: JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`, or
// structured loggers) and the Lambda runtimes' text prefix (`[ERROR]\t2026-...`). The store keeps it
// so the dashboard can colour and filter lines.

import LambdaWire

/// The level of a log line, when it says one.
enum LogLevel {
    struct LevelFields: Decodable {
        var level: String?
        var levelname: String?
        var severity: String?
        var logLevel: String?

        enum CodingKeys: String, CodingKey {
            case level, levelname, severity
            case logLevel = "log.level"
        }
    }

    private static let known = ["TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"]

    /// The level in lower case (`info`, `warn`, `error`...), or nil when the line does not say.
    static func parse(_ line: String) -> String? {
        let first = line.utf8.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        if first == UInt8(ascii: "{") {
            guard let decoded = try? LevelFields(bytes: line.utf8) else { return nil }
            return (decoded.level ?? decoded.levelname ?? decoded.severity ?? decoded.logLevel).map(normalize)
        }
        if first == UInt8(ascii: "[") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }.dropFirst()
            guard let close = trimmed.firstIndex(of: "]") else { return nil }
            let word = String(trimmed[..<close]).uppercased()
            return known.contains(word) ? normalize(word) : nil
        }
        return nil
    }

    static func normalize(_ level: String) -> String {
        switch level.lowercased() {
        case "warning": "warn"
        case "critical": "fatal"
        case let other: other
        }
    }
}
