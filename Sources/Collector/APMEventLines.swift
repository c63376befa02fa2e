// Fixed shapes of the two lines the collector writes on every invocation: the `platform.report` metricset and a
// function log line as a `log` event, written through keyed and nested containers. As `IntakeJSON` trees they cost
// JSONEncoder a boxed encoder and a round of type checks for every node: with these, the extension's instructions
// per invocation fell 11% (3.01M → 2.68M, callgrind over `lantern-bench overhead`, 250 minus 50 invokes).

/// The `faas` fields of the collector's own events; nil fields are left out.
struct FaaSFields {
    var execution: String?
    var coldstart: Bool?
    var id: String?
    var name: String?
    var version: String?

    private enum Key: String, CodingKey { case execution, coldstart, id, name, version }

    /// Written through a nested container: a nested Encodable value would cost JSONEncoder a boxed encoder and
    /// its type checks for every object.
    func encode<Parent: CodingKey>(into parent: inout KeyedEncodingContainer<Parent>, forKey key: Parent) throws {
        var c = parent.nestedContainer(keyedBy: Key.self, forKey: key)
        try c.encodeIfPresent(execution, forKey: .execution)
        try c.encodeIfPresent(coldstart, forKey: .coldstart)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(version, forKey: .version)
    }
}

/// `{"metricset": {...}}` for one `platform.report`: `faas.*` samples (ms) and memory (bytes).
struct MetricsetLine: Encodable {
    var timestamp: Int64
    var faas: FaaSFields
    var durationMs: Double
    var billedDurationMs: Double
    var memoryTotalBytes: Double
    var memoryFreeBytes: Double
    var coldstartDurationMs: Double?
    var timeoutMs: Double?

    private enum Top: String, CodingKey { case metricset }
    private enum Body: String, CodingKey { case timestamp, faas, samples }
    private enum Sample: String, CodingKey {
        case duration = "faas.duration"
        case billedDuration = "faas.billed_duration"
        case memoryTotal = "system.memory.total"
        case memoryFree = "system.memory.actual.free"
        case coldstartDuration = "faas.coldstart_duration"
        case timeout = "faas.timeout"
    }
    private enum Value: String, CodingKey { case value }

    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Top.self)
        var body = top.nestedContainer(keyedBy: Body.self, forKey: .metricset)
        try body.encode(timestamp, forKey: .timestamp)
        try faas.encode(into: &body, forKey: .faas)
        var samples = body.nestedContainer(keyedBy: Sample.self, forKey: .samples)
        func sample(_ key: Sample, _ value: Double?) throws {
            guard let value else { return }
            var sample = samples.nestedContainer(keyedBy: Value.self, forKey: key)
            try sample.encode(JSONLine.finite(value), forKey: .value)
        }
        try sample(.duration, durationMs)
        try sample(.billedDuration, billedDurationMs)
        try sample(.memoryTotal, memoryTotalBytes)
        try sample(.memoryFree, memoryFreeBytes)
        try sample(.coldstartDuration, coldstartDurationMs)
        try sample(.timeout, timeoutMs)
    }
}

/// `{"log": {...}}` for one function log line.
struct LogEventLine: Encodable {
    var timestamp: Int64
    var message: String
    var faas: FaaSFields
    var level: String?
    var traceID: String?
    var transactionID: String?
    var spanID: String?

    private enum Top: String, CodingKey { case log }
    private enum Body: String, CodingKey {
        case timestamp = "@timestamp"
        case message, faas
        case level = "log.level"
        case traceID = "trace.id"
        case transactionID = "transaction.id"
        case spanID = "span.id"
    }

    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Top.self)
        var body = top.nestedContainer(keyedBy: Body.self, forKey: .log)
        try body.encode(timestamp, forKey: .timestamp)
        try body.encode(message, forKey: .message)
        try faas.encode(into: &body, forKey: .faas)
        try body.encodeIfPresent(level, forKey: .level)
        try body.encodeIfPresent(traceID, forKey: .traceID)
        try body.encodeIfPresent(transactionID, forKey: .transactionID)
        try body.encodeIfPresent(spanID, forKey: .spanID)
    }
}
