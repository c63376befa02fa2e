/// An extensible string value on the wire (status, phase, initialization type): unknown values survive decoding.
public protocol WireString: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible where RawValue == String {
    init(rawValue: String)
}

extension WireString {
    public init(from decoder: any Decoder) throws { self.init(rawValue: try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { rawValue }
}

/// `status` of runtimeDone, report and the init records.
public struct TelemetryStatus: WireString {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let success = Self(rawValue: "success")
    public static let failure = Self(rawValue: "failure")
    public static let error = Self(rawValue: "error")
    public static let timeout = Self(rawValue: "timeout")
}

/// `phase` of the init records.
public struct InitPhase: WireString {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let `init` = Self(rawValue: "init")
    public static let invoke = Self(rawValue: "invoke")
}

/// `initializationType` of the init records.
public struct InitializationType: WireString {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let onDemand = Self(rawValue: "on-demand")
    public static let provisionedConcurrency = Self(rawValue: "provisioned-concurrency")
    public static let snapStart = Self(rawValue: "snap-start")
    public static let lambdaManagedInstances = Self(rawValue: "lambda-managed-instances")
}

/// `tracing` in telemetry records.
public struct TraceContext: Codable, Sendable, Equatable {
    public var spanId: String?
    public var type: String
    public var value: String

    public init(spanId: String? = nil, type: String = "X-Amzn-Trace-Id", value: String) {
        self.spanId = spanId
        self.type = type
        self.value = value
    }
}

/// A span in runtimeDone / report / init records (`start` is ISO-8601 with milliseconds).
public struct TelemetrySpan: Codable, Sendable, Equatable {
    public var name: String
    public var start: String
    public var durationMs: Double

    public init(name: String, start: String, durationMs: Double) {
        self.name = name
        self.start = start
        self.durationMs = durationMs
    }
}

/// `platform.initStart`.
public struct PlatformInitStart: Codable, Sendable, Equatable {
    public var initializationType: InitializationType
    public var phase: InitPhase
    public var runtimeVersion: String?
    public var runtimeVersionArn: String?
    public var functionName: String?
    public var functionVersion: String?
    public var instanceId: String?
    public var instanceMaxMemory: Int?
    public var tracing: TraceContext?

    public init(
        initializationType: InitializationType = .onDemand, phase: InitPhase, runtimeVersion: String? = nil,
        runtimeVersionArn: String? = nil, functionName: String? = nil, functionVersion: String? = nil,
        instanceId: String? = nil, instanceMaxMemory: Int? = nil, tracing: TraceContext? = nil
    ) {
        self.initializationType = initializationType
        self.phase = phase
        self.runtimeVersion = runtimeVersion
        self.runtimeVersionArn = runtimeVersionArn
        self.functionName = functionName
        self.functionVersion = functionVersion
        self.instanceId = instanceId
        self.instanceMaxMemory = instanceMaxMemory
        self.tracing = tracing
    }
}

/// `platform.initRuntimeDone`.
public struct PlatformInitRuntimeDone: Codable, Sendable, Equatable {
    public var initializationType: InitializationType
    public var phase: InitPhase
    public var status: TelemetryStatus
    public var errorType: String?
    public var spans: [TelemetrySpan]?
    public var tracing: TraceContext?

    public init(
        initializationType: InitializationType = .onDemand, phase: InitPhase, status: TelemetryStatus,
        errorType: String? = nil, spans: [TelemetrySpan]? = nil, tracing: TraceContext? = nil
    ) {
        self.initializationType = initializationType
        self.phase = phase
        self.status = status
        self.errorType = errorType
        self.spans = spans
        self.tracing = tracing
    }
}

/// `metrics` of `platform.initReport` and `platform.restoreReport`.
public struct DurationMetrics: Codable, Sendable, Equatable {
    public var durationMs: Double
    public init(durationMs: Double) { self.durationMs = durationMs }
}

/// `platform.initReport`.
public struct PlatformInitReport: Codable, Sendable, Equatable {
    public var initializationType: InitializationType
    public var phase: InitPhase
    public var metrics: DurationMetrics
    public var status: TelemetryStatus?
    public var errorType: String?
    public var spans: [TelemetrySpan]?
    public var tracing: TraceContext?

    public init(
        initializationType: InitializationType = .onDemand, phase: InitPhase, metrics: DurationMetrics,
        status: TelemetryStatus? = nil, errorType: String? = nil, spans: [TelemetrySpan]? = nil, tracing: TraceContext? = nil
    ) {
        self.initializationType = initializationType
        self.phase = phase
        self.metrics = metrics
        self.status = status
        self.errorType = errorType
        self.spans = spans
        self.tracing = tracing
    }
}

/// `platform.start`.
public struct PlatformStart: Codable, Sendable, Equatable {
    public var requestId: String
    public var version: String?
    public var tracing: TraceContext?
    public var tenantId: String?
    public var functionArn: String?

    public init(requestId: String, version: String? = nil, tracing: TraceContext? = nil, tenantId: String? = nil, functionArn: String? = nil) {
        self.requestId = requestId
        self.version = version
        self.tracing = tracing
        self.tenantId = tenantId
        self.functionArn = functionArn
    }
}

/// `metrics` of `platform.runtimeDone`.
public struct RuntimeDoneMetrics: Codable, Sendable, Equatable {
    public var durationMs: Double
    public var producedBytes: Int?

    public init(durationMs: Double, producedBytes: Int? = nil) {
        self.durationMs = durationMs
        self.producedBytes = producedBytes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        durationMs = try c.decode(Double.self, forKey: .durationMs)
        producedBytes = try c.decodeFlexibleIntIfPresent(forKey: .producedBytes)
    }
}

/// `platform.runtimeDone`.
public struct PlatformRuntimeDone: Codable, Sendable, Equatable {
    public var requestId: String
    public var status: TelemetryStatus
    public var errorType: String?
    public var metrics: RuntimeDoneMetrics?
    public var spans: [TelemetrySpan]?
    public var tracing: TraceContext?
    public var tenantId: String?

    public init(
        requestId: String, status: TelemetryStatus, errorType: String? = nil, metrics: RuntimeDoneMetrics? = nil,
        spans: [TelemetrySpan]? = nil, tracing: TraceContext? = nil, tenantId: String? = nil
    ) {
        self.requestId = requestId
        self.status = status
        self.errorType = errorType
        self.metrics = metrics
        self.spans = spans
        self.tracing = tracing
        self.tenantId = tenantId
    }
}

/// `metrics` of `platform.report` (LMI sends only `durationMs`, so the rest is optional).
public struct ReportMetrics: Codable, Sendable, Equatable {
    public var durationMs: Double
    public var billedDurationMs: Int?
    public var memorySizeMB: Int?
    public var maxMemoryUsedMB: Int?
    public var initDurationMs: Double?
    public var restoreDurationMs: Double?

    public init(
        durationMs: Double, billedDurationMs: Int? = nil, memorySizeMB: Int? = nil, maxMemoryUsedMB: Int? = nil,
        initDurationMs: Double? = nil, restoreDurationMs: Double? = nil
    ) {
        self.durationMs = durationMs
        self.billedDurationMs = billedDurationMs
        self.memorySizeMB = memorySizeMB
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.initDurationMs = initDurationMs
        self.restoreDurationMs = restoreDurationMs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        durationMs = try c.decode(Double.self, forKey: .durationMs)
        billedDurationMs = try c.decodeFlexibleIntIfPresent(forKey: .billedDurationMs)
        memorySizeMB = try c.decodeFlexibleIntIfPresent(forKey: .memorySizeMB)
        maxMemoryUsedMB = try c.decodeFlexibleIntIfPresent(forKey: .maxMemoryUsedMB)
        initDurationMs = try c.decodeIfPresent(Double.self, forKey: .initDurationMs)
        restoreDurationMs = try c.decodeIfPresent(Double.self, forKey: .restoreDurationMs)
    }
}

/// `platform.report`.
public struct PlatformReport: Codable, Sendable, Equatable {
    public var requestId: String
    public var status: TelemetryStatus
    public var errorType: String?
    public var metrics: ReportMetrics
    public var spans: [TelemetrySpan]?
    public var tracing: TraceContext?
    public var tenantId: String?

    public init(
        requestId: String, status: TelemetryStatus, errorType: String? = nil, metrics: ReportMetrics,
        spans: [TelemetrySpan]? = nil, tracing: TraceContext? = nil, tenantId: String? = nil
    ) {
        self.requestId = requestId
        self.status = status
        self.errorType = errorType
        self.metrics = metrics
        self.spans = spans
        self.tracing = tracing
        self.tenantId = tenantId
    }
}

/// `platform.restoreStart` (SnapStart).
public struct PlatformRestoreStart: Codable, Sendable, Equatable {
    public var runtimeVersion: String?
    public var runtimeVersionArn: String?
    public var functionName: String?
    public var functionVersion: String?
    public var instanceId: String?
    public var instanceMaxMemory: Int?

    public init(runtimeVersion: String? = nil, runtimeVersionArn: String? = nil, functionName: String? = nil,
                functionVersion: String? = nil, instanceId: String? = nil, instanceMaxMemory: Int? = nil) {
        self.runtimeVersion = runtimeVersion
        self.runtimeVersionArn = runtimeVersionArn
        self.functionName = functionName
        self.functionVersion = functionVersion
        self.instanceId = instanceId
        self.instanceMaxMemory = instanceMaxMemory
    }
}

/// `platform.restoreRuntimeDone` (SnapStart).
public struct PlatformRestoreRuntimeDone: Codable, Sendable, Equatable {
    public var status: TelemetryStatus
    public var errorType: String?
    public var spans: [TelemetrySpan]?
    public var tracing: TraceContext?

    public init(status: TelemetryStatus, errorType: String? = nil, spans: [TelemetrySpan]? = nil, tracing: TraceContext? = nil) {
        self.status = status
        self.errorType = errorType
        self.spans = spans
        self.tracing = tracing
    }
}

/// `platform.restoreReport` (SnapStart).
public struct PlatformRestoreReport: Codable, Sendable, Equatable {
    public var status: TelemetryStatus
    public var metrics: DurationMetrics?
    public var errorType: String?
    public var spans: [TelemetrySpan]?
    public var tracing: TraceContext?

    public init(status: TelemetryStatus, metrics: DurationMetrics? = nil, errorType: String? = nil,
                spans: [TelemetrySpan]? = nil, tracing: TraceContext? = nil) {
        self.status = status
        self.metrics = metrics
        self.errorType = errorType
        self.spans = spans
        self.tracing = tracing
    }
}

/// `platform.extension`: an extension's registration state.
public struct PlatformExtension: Codable, Sendable, Equatable {
    public var name: String
    /// `Registered`, `Ready`, ...
    public var state: String
    public var events: [String]
    public var errorType: String?

    public init(name: String, state: String, events: [String], errorType: String? = nil) {
        self.name = name
        self.state = state
        self.events = events
        self.errorType = errorType
    }
}

/// `platform.telemetrySubscription` (and the Logs API's `platform.logsSubscription`).
public struct PlatformSubscription: Codable, Sendable, Equatable {
    public var name: String
    /// `Subscribed`.
    public var state: String
    public var types: [String]

    public init(name: String, state: String = "Subscribed", types: [String]) {
        self.name = name
        self.state = state
        self.types = types
    }
}

/// `platform.logsDropped`.
public struct PlatformLogsDropped: Codable, Sendable, Equatable {
    public var droppedBytes: Int
    public var droppedRecords: Int
    public var reason: String

    public init(droppedBytes: Int, droppedRecords: Int, reason: String) {
        self.droppedBytes = droppedBytes
        self.droppedRecords = droppedRecords
        self.reason = reason
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        droppedBytes = try c.decodeFlexibleIntIfPresent(forKey: .droppedBytes) ?? 0
        droppedRecords = try c.decodeFlexibleIntIfPresent(forKey: .droppedRecords) ?? 0
        reason = try c.decodeIfPresent(String.self, forKey: .reason) ?? ""
    }
}

/// Logs API `platform.end`.
public struct PlatformEnd: Codable, Sendable, Equatable {
    public var requestId: String
    public init(requestId: String) { self.requestId = requestId }
}
