// The telemetry record types read straight from a parsed `JSONNode`, member by member as their Codable
// `init(from:)` (synthesized or written out in TelemetryRecords.swift) reads them through `JSONNodeDecoder`:
// the same members required or optional, the same types, the same flexible integers. A change to a record's
// fields must be made in both; `TelemetryNodeDifferentialTests` holds the two paths to the same answers.

extension TraceContext {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        spanId = try f.optionalString("spanId")
        type = try f.string("type")
        value = try f.string("value")
    }

    static func optional(_ f: JSONFields) throws(JSONError) -> TraceContext? {
        guard let node = f.present("tracing") else { return nil }
        return try TraceContext(node: node)
    }
}

extension TelemetrySpan {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        name = try f.string("name")
        start = try f.string("start")
        durationMs = try f.double("durationMs")
    }

    static func optionalSpans(_ f: JSONFields) throws(JSONError) -> [TelemetrySpan]? {
        guard let node = f.present("spans") else { return nil }
        return try node.array { (element) throws(JSONError) in try TelemetrySpan(node: element) }
    }
}

extension DurationMetrics {
    init(node: JSONNode) throws(JSONError) {
        durationMs = try JSONFields(node).double("durationMs")
    }
}

extension PlatformInitStart {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        initializationType = InitializationType(rawValue: try f.string("initializationType"))
        phase = InitPhase(rawValue: try f.string("phase"))
        runtimeVersion = try f.optionalString("runtimeVersion")
        runtimeVersionArn = try f.optionalString("runtimeVersionArn")
        functionName = try f.optionalString("functionName")
        functionVersion = try f.optionalString("functionVersion")
        instanceId = try f.optionalString("instanceId")
        instanceMaxMemory = try f.optionalInt("instanceMaxMemory")
        tracing = try TraceContext.optional(f)
    }
}

extension PlatformInitRuntimeDone {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        initializationType = InitializationType(rawValue: try f.string("initializationType"))
        phase = InitPhase(rawValue: try f.string("phase"))
        status = TelemetryStatus(rawValue: try f.string("status"))
        errorType = try f.optionalString("errorType")
        spans = try TelemetrySpan.optionalSpans(f)
        tracing = try TraceContext.optional(f)
    }
}

extension PlatformInitReport {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        initializationType = InitializationType(rawValue: try f.string("initializationType"))
        phase = InitPhase(rawValue: try f.string("phase"))
        metrics = try DurationMetrics(node: f.required("metrics"))
        status = try f.optionalString("status").map(TelemetryStatus.init(rawValue:))
        errorType = try f.optionalString("errorType")
        spans = try TelemetrySpan.optionalSpans(f)
        tracing = try TraceContext.optional(f)
    }
}

extension PlatformStart {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        requestId = try f.string("requestId")
        version = try f.optionalString("version")
        tracing = try TraceContext.optional(f)
        tenantId = try f.optionalString("tenantId")
        functionArn = try f.optionalString("functionArn")
    }
}

extension RuntimeDoneMetrics {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        durationMs = try f.double("durationMs")
        producedBytes = try f.flexibleInt("producedBytes")
    }
}

extension PlatformRuntimeDone {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        requestId = try f.string("requestId")
        status = TelemetryStatus(rawValue: try f.string("status"))
        errorType = try f.optionalString("errorType")
        if let node = f.present("metrics") { metrics = try RuntimeDoneMetrics(node: node) } else { metrics = nil }
        spans = try TelemetrySpan.optionalSpans(f)
        tracing = try TraceContext.optional(f)
        tenantId = try f.optionalString("tenantId")
    }
}

extension ReportMetrics {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        durationMs = try f.double("durationMs")
        billedDurationMs = try f.flexibleInt("billedDurationMs")
        memorySizeMB = try f.flexibleInt("memorySizeMB")
        maxMemoryUsedMB = try f.flexibleInt("maxMemoryUsedMB")
        initDurationMs = try f.optionalDouble("initDurationMs")
        restoreDurationMs = try f.optionalDouble("restoreDurationMs")
    }
}

extension PlatformReport {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        requestId = try f.string("requestId")
        status = TelemetryStatus(rawValue: try f.string("status"))
        errorType = try f.optionalString("errorType")
        metrics = try ReportMetrics(node: f.required("metrics"))
        spans = try TelemetrySpan.optionalSpans(f)
        tracing = try TraceContext.optional(f)
        tenantId = try f.optionalString("tenantId")
    }
}

extension PlatformRestoreStart {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        runtimeVersion = try f.optionalString("runtimeVersion")
        runtimeVersionArn = try f.optionalString("runtimeVersionArn")
        functionName = try f.optionalString("functionName")
        functionVersion = try f.optionalString("functionVersion")
        instanceId = try f.optionalString("instanceId")
        instanceMaxMemory = try f.optionalInt("instanceMaxMemory")
    }
}

extension PlatformRestoreRuntimeDone {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        status = TelemetryStatus(rawValue: try f.string("status"))
        errorType = try f.optionalString("errorType")
        spans = try TelemetrySpan.optionalSpans(f)
        tracing = try TraceContext.optional(f)
    }
}

extension PlatformRestoreReport {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        status = TelemetryStatus(rawValue: try f.string("status"))
        if let node = f.present("metrics") { metrics = try DurationMetrics(node: node) } else { metrics = nil }
        errorType = try f.optionalString("errorType")
        spans = try TelemetrySpan.optionalSpans(f)
        tracing = try TraceContext.optional(f)
    }
}

extension PlatformExtension {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        name = try f.string("name")
        state = try f.string("state")
        events = try f.strings("events")
        errorType = try f.optionalString("errorType")
    }
}

extension PlatformSubscription {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        name = try f.string("name")
        state = try f.string("state")
        types = try f.strings("types")
    }
}

extension PlatformLogsDropped {
    init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        droppedBytes = try f.flexibleInt("droppedBytes") ?? 0
        droppedRecords = try f.flexibleInt("droppedRecords") ?? 0
        reason = try f.optionalString("reason") ?? ""
    }
}

extension PlatformEnd {
    init(node: JSONNode) throws(JSONError) {
        requestId = try JSONFields(node).string("requestId")
    }
}
