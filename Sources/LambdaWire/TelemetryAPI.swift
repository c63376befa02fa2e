/// Paths and constants of the Telemetry API (2022-07-01) and the Logs API (2020-08-15).
public enum TelemetryAPI {
    public static let version = "2022-07-01"
    public static let path = "/2022-07-01/telemetry"
    /// Schema versions the Telemetry API accepts.
    public static let schemaVersions = ["2022-07-01", "2022-12-13", "2025-01-29"]
    /// Hosts that name the sandbox itself in a destination URI.
    public static let sandboxHosts = ["sandbox.localdomain", "sandbox"]
}

/// Paths and constants of the Logs API (2020-08-15).
public enum LogsAPI {
    public static let version = "2020-08-15"
    public static let path = "/2020-08-15/logs"
    /// Schema versions the Logs API accepts (`2021-03-18` adds `platform.runtimeDone`).
    public static let schemaVersions = ["2020-08-15", "2021-03-18"]
}

/// The record categories a subscriber may ask for.
public enum TelemetryCategory: String, Codable, Sendable, CaseIterable {
    case platform, function, `extension`
}

/// Where Lambda delivers telemetry.
public struct TelemetryDestination: Codable, Sendable, Equatable {
    /// `HTTP` or `TCP`.
    public var `protocol`: String
    /// For HTTP: `http://sandbox.localdomain:PORT[/PATH]`.
    public var URI: String?
    /// For TCP.
    public var port: Int?

    public init(protocol: String = "HTTP", URI: String? = nil, port: Int? = nil) {
        self.protocol = `protocol`
        self.URI = URI
        self.port = port
    }
}

/// Buffering of a subscription; every field optional on the wire.
public struct TelemetryBuffering: Codable, Sendable, Equatable {
    public var maxItems: Int?
    public var maxBytes: Int?
    public var timeoutMs: Int?

    public init(maxItems: Int? = nil, maxBytes: Int? = nil, timeoutMs: Int? = nil) {
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.timeoutMs = timeoutMs
    }

    /// Documented defaults and bounds (min...max).
    public static let defaultMaxItems = 10_000, maxItemsRange = 1_000...10_000
    public static let defaultMaxBytes = 262_144, maxBytesRange = 262_144...1_048_576
    public static let defaultTimeoutMs = 1_000, timeoutMsRange = 25...30_000

    /// The values in effect, defaults filled in.
    public var effective: (maxItems: Int, maxBytes: Int, timeoutMs: Int) {
        (maxItems ?? Self.defaultMaxItems, maxBytes ?? Self.defaultMaxBytes, timeoutMs ?? Self.defaultTimeoutMs)
    }

    /// A message naming the first field outside its documented bounds, or nil when all are valid.
    public func validationFailure() -> String? {
        if let v = maxItems, !Self.maxItemsRange.contains(v) {
            return "buffering.maxItems must be between \(Self.maxItemsRange.lowerBound) and \(Self.maxItemsRange.upperBound), got \(v)"
        }
        if let v = maxBytes, !Self.maxBytesRange.contains(v) {
            return "buffering.maxBytes must be between \(Self.maxBytesRange.lowerBound) and \(Self.maxBytesRange.upperBound), got \(v)"
        }
        if let v = timeoutMs, !Self.timeoutMsRange.contains(v) {
            return "buffering.timeoutMs must be between \(Self.timeoutMsRange.lowerBound) and \(Self.timeoutMsRange.upperBound), got \(v)"
        }
        return nil
    }
}

/// The body of `PUT /2022-07-01/telemetry` (and of `PUT /2020-08-15/logs`).
public struct TelemetrySubscription: Codable, Sendable, Equatable {
    public var schemaVersion: String?
    public var destination: TelemetryDestination
    public var types: [TelemetryCategory]
    public var buffering: TelemetryBuffering?

    public init(
        schemaVersion: String? = "2022-12-13", destination: TelemetryDestination, types: [TelemetryCategory],
        buffering: TelemetryBuffering? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.destination = destination
        self.types = types
        self.buffering = buffering
    }
}
