// Fixed shapes of the two lines the collector writes on every invocation: the `platform.report` metricset and a
// function log line as a `log` event. The collector writes them straight into a `JSONWriter` (`write(into:)`),
// keys in the sorted order Foundation's `.sortedKeys` gave; they stay `Encodable` so the differential tests can
// check that the bytes are exactly what JSONEncoder writes for the same value. (Through keyed containers, as
// before, each line cost ~80,000 instructions even with LambdaWire's encoder.)

import LambdaWire
import NIOCore

/// The `faas` fields of the collector's own events; nil fields are left out.
struct FaaSFields {
    var execution: String?
    var coldstart: Bool?
    var id: String?
    var name: String?
    var version: String?

    private enum Key: String, CodingKey { case execution, coldstart, id, name, version }

    /// `{...}` with the present fields, keys sorted: coldstart, execution, id, name, version.
    func write(into writer: inout JSONWriter) {
        var fields = JSONObjectWriter(&writer)
        if let coldstart { fields.key("coldstart", &writer); writer.bool(coldstart) }
        if let execution { fields.key("execution", &writer); writer.string(execution) }
        if let id { fields.key("id", &writer); writer.string(id) }
        if let name { fields.key("name", &writer); writer.string(name) }
        if let version { fields.key("version", &writer); writer.string(version) }
        fields.close(&writer)
    }

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

    /// The line, keys sorted (faas, samples, timestamp; the samples by their UTF-8 names).
    func write(into writer: inout JSONWriter) {
        writer.raw(#"{"metricset":{"faas":"#.utf8)
        faas.write(into: &writer)
        writer.raw(#","samples":"#.utf8)
        var samples = JSONObjectWriter(&writer)
        func sample(_ name: String, _ value: Double?) {
            guard let value else { return }
            samples.key(name, &writer)
            writer.raw(#"{"value":"#.utf8)
            try? writer.double(JSONLine.finite(value))
            writer.punctuation(UInt8(ascii: "}"))
        }
        sample("faas.billed_duration", billedDurationMs)
        sample("faas.coldstart_duration", coldstartDurationMs)
        sample("faas.duration", durationMs)
        sample("faas.timeout", timeoutMs)
        sample("system.memory.actual.free", memoryFreeBytes)
        sample("system.memory.total", memoryTotalBytes)
        samples.close(&writer)
        writer.raw(#","timestamp":"#.utf8)
        writer.integer(timestamp)
        writer.raw("}}".utf8)
    }

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

    /// The line, keys sorted: @timestamp, faas, log.level, message, span.id, trace.id, transaction.id.
    func write(into writer: inout JSONWriter) {
        writer.raw(#"{"log":{"@timestamp":"#.utf8)
        writer.integer(timestamp)
        writer.raw(#","faas":"#.utf8)
        faas.write(into: &writer)
        if let level { writer.raw(#","log.level":"#.utf8); writer.string(level) }
        writer.raw(#","message":"#.utf8)
        writer.string(message)
        if let spanID { writer.raw(#","span.id":"#.utf8); writer.string(spanID) }
        if let traceID { writer.raw(#","trace.id":"#.utf8); writer.string(traceID) }
        if let transactionID { writer.raw(#","transaction.id":"#.utf8); writer.string(transactionID) }
        writer.raw("}}".utf8)
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

/// Commas between the members of an object whose members are optional.
struct JSONObjectWriter {
    private var first = true

    init(_ writer: inout JSONWriter) { writer.punctuation(UInt8(ascii: "{")) }

    mutating func key(_ name: String, _ writer: inout JSONWriter) {
        if !first { writer.punctuation(UInt8(ascii: ",")) }
        first = false
        writer.key(name)
    }

    func close(_ writer: inout JSONWriter) { writer.punctuation(UInt8(ascii: "}")) }
}

extension JSONLine {
    /// A line the collector writes directly.
    static func written(_ write: (inout JSONWriter) -> Void) -> ByteBuffer {
        var writer = JSONWriter()
        write(&writer)
        return ByteBuffer(bytes: writer.bytes)
    }
}
