// Telemetry deliveries read straight from the parsed tree: the collector reads one on every invocation (often
// several), and through `JSONNodeDecoder` most of that time went to Codable's machinery (containers, generic
// metadata, existential decoders, a thrown error per failed guess in `JSONValue`), not to the JSON itself. The
// answers are the Codable path's, value for value and refusal for refusal (`TelemetryNodeDifferentialTests`
// compares them over the fuzz corpus and generated deliveries); only the error thrown differs (`JSONError`).

extension TelemetryEvent {
    /// A Telemetry (or Logs) API delivery: what `WireJSON.decode([TelemetryEvent].self, from: bytes)` gives.
    public static func decodeBatch(from bytes: some Collection<UInt8>) throws(JSONError) -> [TelemetryEvent] {
        try decodeBatch(node: try JSONScanner.parse(bytes))
    }

    /// A delivery from its parsed tree: an array of events.
    public static func decodeBatch(node: JSONNode) throws(JSONError) -> [TelemetryEvent] {
        try node.array { (element) throws(JSONError) in try TelemetryEvent(node: element) }
    }

    /// One event, as `init(from:)` reads it: `time` and `type` strings, the record chosen by `type` (a missing
    /// record reads as null, as `superDecoder(forKey:)` gives it).
    public init(node: JSONNode) throws(JSONError) {
        let f = try JSONFields(node)
        time = try f.string("time")
        let type = try f.string("type")
        record = try TelemetryRecord(type: type, node: f.orNull("record"))
    }
}

extension TelemetryRecord {
    /// The record for `type`, as `init(type:from:)` chooses and reads it.
    init(type: String, node: JSONNode) throws(JSONError) {
        // The types of every invocation first: a switch over Strings compares them case by case, in order.
        switch type {
        case TelemetryEventType.function: self = .function(try LogLine(node: node))
        case TelemetryEventType.start: self = .start(try .init(node: node))
        case TelemetryEventType.runtimeDone: self = .runtimeDone(try .init(node: node))
        case TelemetryEventType.report: self = .report(try .init(node: node))
        case TelemetryEventType.extensionLog: self = .extensionLog(try LogLine(node: node))
        case TelemetryEventType.initStart: self = .initStart(try .init(node: node))
        case TelemetryEventType.initRuntimeDone: self = .initRuntimeDone(try .init(node: node))
        case TelemetryEventType.initReport: self = .initReport(try .init(node: node))
        case TelemetryEventType.restoreStart: self = .restoreStart(try .init(node: node))
        case TelemetryEventType.restoreRuntimeDone: self = .restoreRuntimeDone(try .init(node: node))
        case TelemetryEventType.restoreReport: self = .restoreReport(try .init(node: node))
        case TelemetryEventType.extension: self = .extensionState(try .init(node: node))
        case TelemetryEventType.telemetrySubscription: self = .telemetrySubscription(try .init(node: node))
        case TelemetryEventType.logsSubscription: self = .logsSubscription(try .init(node: node))
        case TelemetryEventType.logsDropped: self = .logsDropped(try .init(node: node))
        case TelemetryEventType.end: self = .end(try .init(node: node))
        case TelemetryEventType.fault: self = .fault(try node.stringValue())
        // `JSONValue(node:)` answers as `JSONValue.init(from:)` does (JSONValue+Node.swift).
        default: self = .unknown(type: type, record: try JSONValue(node: node))
        }
    }
}

extension LogLine {
    /// A string record is a text line; anything else JSON (`init(from:)` reads a `JSONValue` and looks).
    init(node: JSONNode) throws(JSONError) {
        let value = try JSONValue(node: node)
        if case .string(let text) = value { self = .text(text) } else { self = .json(value) }
    }
}
