/// One element of a Telemetry (or Logs) API delivery: `{"time", "type", "record"}`.
public struct TelemetryEvent: Codable, Sendable, Equatable {
    /// ISO-8601 UTC with milliseconds, e.g. `2026-11-25T21:53:10.456Z` (see `WireTime`).
    public var time: String
    public var record: TelemetryRecord

    /// The wire `type` (`platform.start`, `function`, ...).
    public var type: String { record.type }

    public init(time: String, record: TelemetryRecord) {
        self.time = time
        self.record = record
    }

    enum CodingKeys: String, CodingKey { case time, type, record }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        time = try c.decode(String.self, forKey: .time)
        let type = try c.decode(String.self, forKey: .type)
        record = try TelemetryRecord(type: type, from: c.superDecoder(forKey: .record))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(time, forKey: .time)
        try c.encode(type, forKey: .type)
        try record.encodeRecord(to: c.superEncoder(forKey: .record))
    }
}

/// A log line from the function or an extension: a string, or a JSON object with `AWS_LAMBDA_LOG_FORMAT=JSON`.
public enum LogLine: Codable, Sendable, Equatable {
    case text(String)
    case json(JSONValue)

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        if case .string(let s) = value { self = .text(s) } else { self = .json(value) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .text(let s): try JSONValue.string(s).encode(to: encoder)
        case .json(let v): try v.encode(to: encoder)
        }
    }
}

/// The typed `record` of a telemetry event, chosen by its `type`.
public enum TelemetryRecord: Sendable, Equatable {
    case initStart(PlatformInitStart)
    case initRuntimeDone(PlatformInitRuntimeDone)
    case initReport(PlatformInitReport)
    case start(PlatformStart)
    case runtimeDone(PlatformRuntimeDone)
    case report(PlatformReport)
    case restoreStart(PlatformRestoreStart)
    case restoreRuntimeDone(PlatformRestoreRuntimeDone)
    case restoreReport(PlatformRestoreReport)
    case extensionState(PlatformExtension)
    case telemetrySubscription(PlatformSubscription)
    case logsSubscription(PlatformSubscription)
    case logsDropped(PlatformLogsDropped)
    /// Logs API only.
    case end(PlatformEnd)
    /// Logs API only; the record is a string.
    case fault(String)
    case function(LogLine)
    case extensionLog(LogLine)
    /// A type this version does not know, kept as it came.
    case unknown(type: String, record: JSONValue)

    /// The wire `type` of this record.
    public var type: String {
        switch self {
        case .initStart: TelemetryEventType.initStart
        case .initRuntimeDone: TelemetryEventType.initRuntimeDone
        case .initReport: TelemetryEventType.initReport
        case .start: TelemetryEventType.start
        case .runtimeDone: TelemetryEventType.runtimeDone
        case .report: TelemetryEventType.report
        case .restoreStart: TelemetryEventType.restoreStart
        case .restoreRuntimeDone: TelemetryEventType.restoreRuntimeDone
        case .restoreReport: TelemetryEventType.restoreReport
        case .extensionState: TelemetryEventType.extension
        case .telemetrySubscription: TelemetryEventType.telemetrySubscription
        case .logsSubscription: TelemetryEventType.logsSubscription
        case .logsDropped: TelemetryEventType.logsDropped
        case .end: TelemetryEventType.end
        case .fault: TelemetryEventType.fault
        case .function: TelemetryEventType.function
        case .extensionLog: TelemetryEventType.extensionLog
        case .unknown(let type, _): type
        }
    }

    /// The subscription category (`platform`, `function`, `extension`) this record belongs to.
    public var category: TelemetryCategory {
        switch self {
        case .function: .function
        case .extensionLog: .extension
        case .unknown(let type, _): type == "function" ? .function : (type == "extension" ? .extension : .platform)
        default: .platform
        }
    }

    /// Decodes the record for `type`.
    public init(type: String, from decoder: any Decoder) throws {
        switch type {
        case TelemetryEventType.initStart: self = .initStart(try .init(from: decoder))
        case TelemetryEventType.initRuntimeDone: self = .initRuntimeDone(try .init(from: decoder))
        case TelemetryEventType.initReport: self = .initReport(try .init(from: decoder))
        case TelemetryEventType.start: self = .start(try .init(from: decoder))
        case TelemetryEventType.runtimeDone: self = .runtimeDone(try .init(from: decoder))
        case TelemetryEventType.report: self = .report(try .init(from: decoder))
        case TelemetryEventType.restoreStart: self = .restoreStart(try .init(from: decoder))
        case TelemetryEventType.restoreRuntimeDone: self = .restoreRuntimeDone(try .init(from: decoder))
        case TelemetryEventType.restoreReport: self = .restoreReport(try .init(from: decoder))
        case TelemetryEventType.extension: self = .extensionState(try .init(from: decoder))
        case TelemetryEventType.telemetrySubscription: self = .telemetrySubscription(try .init(from: decoder))
        case TelemetryEventType.logsSubscription: self = .logsSubscription(try .init(from: decoder))
        case TelemetryEventType.logsDropped: self = .logsDropped(try .init(from: decoder))
        case TelemetryEventType.end: self = .end(try .init(from: decoder))
        case TelemetryEventType.fault: self = .fault(try decoder.singleValueContainer().decode(String.self))
        case TelemetryEventType.function: self = .function(try .init(from: decoder))
        case TelemetryEventType.extensionLog: self = .extensionLog(try .init(from: decoder))
        default: self = .unknown(type: type, record: try .init(from: decoder))
        }
    }

    func encodeRecord(to encoder: any Encoder) throws {
        switch self {
        case .initStart(let r): try r.encode(to: encoder)
        case .initRuntimeDone(let r): try r.encode(to: encoder)
        case .initReport(let r): try r.encode(to: encoder)
        case .start(let r): try r.encode(to: encoder)
        case .runtimeDone(let r): try r.encode(to: encoder)
        case .report(let r): try r.encode(to: encoder)
        case .restoreStart(let r): try r.encode(to: encoder)
        case .restoreRuntimeDone(let r): try r.encode(to: encoder)
        case .restoreReport(let r): try r.encode(to: encoder)
        case .extensionState(let r): try r.encode(to: encoder)
        case .telemetrySubscription(let r): try r.encode(to: encoder)
        case .logsSubscription(let r): try r.encode(to: encoder)
        case .logsDropped(let r): try r.encode(to: encoder)
        case .end(let r): try r.encode(to: encoder)
        case .fault(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .function(let l): try l.encode(to: encoder)
        case .extensionLog(let l): try l.encode(to: encoder)
        case .unknown(_, let v): try v.encode(to: encoder)
        }
    }
}

/// The `type` strings of telemetry events.
public enum TelemetryEventType {
    public static let initStart = "platform.initStart"
    public static let initRuntimeDone = "platform.initRuntimeDone"
    public static let initReport = "platform.initReport"
    public static let start = "platform.start"
    public static let runtimeDone = "platform.runtimeDone"
    public static let report = "platform.report"
    public static let restoreStart = "platform.restoreStart"
    public static let restoreRuntimeDone = "platform.restoreRuntimeDone"
    public static let restoreReport = "platform.restoreReport"
    public static let `extension` = "platform.extension"
    public static let telemetrySubscription = "platform.telemetrySubscription"
    public static let logsSubscription = "platform.logsSubscription"
    public static let logsDropped = "platform.logsDropped"
    public static let end = "platform.end"
    public static let fault = "platform.fault"
    public static let function = "function"
    public static let extensionLog = "extension"
}
