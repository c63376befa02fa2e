// Generated telemetry deliveries for TelemetryNodeDifferentialTests: every event type the collector knows, with
// records that are mostly well formed and now and then not (a member missing, null, of another kind, a number
// the type cannot hold, a string that does not resolve, a key twice, a key spelled with an escape, extra
// members), and a quarter of the deliveries damaged afterwards as `JSONFuzzCorpus.randomInput` damages its.

import TestSupport

enum TelemetryBatchGenerator {
    indirect enum Shape: Sendable {
        case string([String])
        case integer
        case double
        case object([Field])
        case array(Shape)
        /// A function or extension log record: a text line or a JSON-format one.
        case logRecord
        /// Anything at all (unknown types).
        case any
    }

    struct Field: Sendable {
        var name: String
        var shape: Shape
        var required: Bool
        init(_ name: String, _ shape: Shape, _ required: Bool = false) {
            self.name = name
            self.shape = shape
            self.required = required
        }
    }

    static let text = Shape.string(["r1", "5d7a3c1e-2b7f-4c44-9a51-0f6a1c2d3e4f", "$LATEST", "", "é", "e\\u0301", "a\\nb", "😀", "\\u00e9x"])
    static let status = Shape.string(["success", "error", "failure", "timeout", "Success", ""])
    static let initType = Shape.string(["on-demand", "provisioned-concurrency", "snap-start", "lambda-managed-instances", "x"])
    static let phase = Shape.string(["init", "invoke", "other"])
    static let tracing = Shape.object([Field("spanId", text), Field("type", .string(["X-Amzn-Trace-Id"]), true),
                                       Field("value", .string(["Root=1-6781f2a0;Parent=4a1b;Sampled=1"]), true)])
    static let spans = Shape.array(.object([Field("name", .string(["responseLatency", "responseDuration"]), true),
                                            Field("start", .string(["2026-01-10T10:00:00.420Z"]), true),
                                            Field("durationMs", .double, true)]))
    static let durationMetrics = Shape.object([Field("durationMs", .double, true)])

    /// Each type's record, as TelemetryRecords.swift declares it (required members marked).
    static let records: [(type: String, shape: Shape)] = [
        ("platform.initStart", .object([
            Field("initializationType", initType, true), Field("phase", phase, true), Field("runtimeVersion", text),
            Field("runtimeVersionArn", text), Field("functionName", text), Field("functionVersion", text),
            Field("instanceId", text), Field("instanceMaxMemory", .integer), Field("tracing", tracing)])),
        ("platform.initRuntimeDone", .object([
            Field("initializationType", initType, true), Field("phase", phase, true), Field("status", status, true),
            Field("errorType", text), Field("spans", spans), Field("tracing", tracing)])),
        ("platform.initReport", .object([
            Field("initializationType", initType, true), Field("phase", phase, true), Field("metrics", durationMetrics, true),
            Field("status", status), Field("errorType", text), Field("spans", spans), Field("tracing", tracing)])),
        ("platform.start", .object([
            Field("requestId", text, true), Field("version", text), Field("tracing", tracing), Field("tenantId", text),
            Field("functionArn", text)])),
        ("platform.runtimeDone", .object([
            Field("requestId", text, true), Field("status", status, true), Field("errorType", text),
            Field("metrics", .object([Field("durationMs", .double, true), Field("producedBytes", .integer)])),
            Field("spans", spans), Field("tracing", tracing), Field("tenantId", text)])),
        ("platform.report", .object([
            Field("requestId", text, true), Field("status", status, true), Field("errorType", text),
            Field("metrics", .object([
                Field("durationMs", .double, true), Field("billedDurationMs", .integer), Field("memorySizeMB", .integer),
                Field("maxMemoryUsedMB", .integer), Field("initDurationMs", .double), Field("restoreDurationMs", .double)]), true),
            Field("spans", spans), Field("tracing", tracing), Field("tenantId", text)])),
        ("platform.restoreStart", .object([
            Field("runtimeVersion", text), Field("runtimeVersionArn", text), Field("functionName", text),
            Field("functionVersion", text), Field("instanceId", text), Field("instanceMaxMemory", .integer)])),
        ("platform.restoreRuntimeDone", .object([
            Field("status", status, true), Field("errorType", text), Field("spans", spans), Field("tracing", tracing)])),
        ("platform.restoreReport", .object([
            Field("status", status, true), Field("metrics", durationMetrics), Field("errorType", text),
            Field("spans", spans), Field("tracing", tracing)])),
        ("platform.extension", .object([
            Field("name", text, true), Field("state", .string(["Registered", "Ready"]), true),
            Field("events", .array(.string(["INVOKE", "SHUTDOWN"])), true), Field("errorType", text)])),
        ("platform.telemetrySubscription", .object([
            Field("name", text, true), Field("state", .string(["Subscribed"]), true),
            Field("types", .array(.string(["platform", "function", "extension"])), true)])),
        ("platform.logsSubscription", .object([
            Field("name", text, true), Field("state", .string(["Subscribed"]), true),
            Field("types", .array(.string(["platform", "function"])), true)])),
        ("platform.logsDropped", .object([
            Field("droppedBytes", .integer), Field("droppedRecords", .integer), Field("reason", text)])),
        ("platform.end", .object([Field("requestId", text, true)])),
        ("platform.fault", .string(["RequestId: x Process exited before completing request", "a\\tb"])),
        ("function", .logRecord),
        ("extension", .logRecord),
        ("platform.somethingNew", .any),
        ("platform.unknown", .object([Field("a", .any)])),
        ("Function", .logRecord),
    ]

    static let integers = ["0", "1", "-1", "42", "128", "134217728", "1000", "50.0", "1.7e3", "2.5", "1e2", "-0", "9.3e18"]
    static let doubles = ["0", "1.5", "42.6", "311.8", "-0.0", "1e3", "0.2", "5e-324", "1.7976931348623157e308"]

    /// A valid value of `shape`, or, now and then (`1 in mutateOneIn`), something else in its place.
    static func value<R: RandomNumberGenerator>(_ shape: Shape, _ rng: inout R, depth: Int, mutateOneIn: Int) -> String {
        if Int.random(in: 0..<mutateOneIn, using: &rng) == 0 {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: return "null"
            case 1: return JSONFuzzCorpus.numbers.randomElement(using: &rng)!
            case 2: return JSONFuzzCorpus.randomString(&rng)
            case 3: return JSONFuzzCorpus.randomValue(&rng, depth: 3)
            default: return ["{}", "[]", "true", "\"\"", "[null]"].randomElement(using: &rng)!
            }
        }
        switch shape {
        case .string(let choices): return "\"" + choices.randomElement(using: &rng)! + "\""
        case .integer:
            return Int.random(in: 0..<5, using: &rng) == 0 ? JSONFuzzCorpus.numbers.randomElement(using: &rng)! : integers.randomElement(using: &rng)!
        case .double:
            return Int.random(in: 0..<5, using: &rng) == 0 ? JSONFuzzCorpus.numbers.randomElement(using: &rng)! : doubles.randomElement(using: &rng)!
        case .array(let element):
            let n = Int.random(in: 0...3, using: &rng)
            return "[" + (0..<n).map { _ in value(element, &rng, depth: depth + 1, mutateOneIn: mutateOneIn) }.joined(separator: ",") + "]"
        case .object(let fields): return object(fields, &rng, depth: depth, mutateOneIn: mutateOneIn)
        case .logRecord:
            switch Int.random(in: 0..<4, using: &rng) {
            case 0, 1: return JSONFuzzCorpus.randomString(&rng)
            case 2:
                return #"{"timestamp":"2026-01-10T10:00:00.431Z","level":"\#(["INFO", "ERROR", "debug"].randomElement(using: &rng)!)","message":\#(JSONFuzzCorpus.randomString(&rng)),"requestId":"r1","n":[1,2.5,null,true,{"a":{}}],"x":\#(JSONFuzzCorpus.randomValue(&rng, depth: 2))}"#
            default: return JSONFuzzCorpus.randomValue(&rng, depth: 1)
            }
        case .any: return JSONFuzzCorpus.randomValue(&rng, depth: 1)
        }
    }

    /// An object with its required members (now and then one left out), some optional ones, now and then a
    /// duplicate, an extra member or a key spelled with an escape, in random order.
    static func object<R: RandomNumberGenerator>(_ fields: [Field], _ rng: inout R, depth: Int, mutateOneIn: Int) -> String {
        var members: [String] = []
        for field in fields {
            let keep = field.required ? Int.random(in: 0..<(mutateOneIn * 2), using: &rng) != 0 : Bool.random(using: &rng)
            guard keep else { continue }
            var key = field.name
            if Int.random(in: 0..<(mutateOneIn * 3), using: &rng) == 0 {
                // The same key, its first letter escaped: equal once resolved.
                let first = key.unicodeScalars.first!.value
                key = "\\u00" + String(first, radix: 16) + key.dropFirst()
            }
            members.append("\"\(key)\":" + value(field.shape, &rng, depth: depth + 1, mutateOneIn: mutateOneIn))
            if Int.random(in: 0..<(mutateOneIn * 2), using: &rng) == 0 {
                members.append("\"\(field.name)\":" + value(field.shape, &rng, depth: depth + 1, mutateOneIn: 2))
            }
        }
        if Int.random(in: 0..<mutateOneIn, using: &rng) == 0 {
            members.append("\"\(JSONFuzzCorpus.keys.randomElement(using: &rng)!)\":" + JSONFuzzCorpus.randomValue(&rng, depth: 3))
        }
        members.shuffle(using: &rng)
        return "{" + members.joined(separator: ",") + "}"
    }

    /// One delivery of one to five events.
    static func batch<R: RandomNumberGenerator>(_ rng: inout R) -> [UInt8] {
        // Some deliveries are clean, so that every type is accepted often; the rest have a slip here and there.
        let mutateOneIn = Bool.random(using: &rng) ? 1_000_000 : Int.random(in: 6...20, using: &rng)
        let events = (0..<Int.random(in: 1...5, using: &rng)).map { _ in
            let (type, shape) = records.randomElement(using: &rng)!
            let event: [Field] = [
                Field("time", .string(["2026-11-25T21:53:10.456Z", "t"]), true),
                Field("type", .string([type]), true),
                Field("record", shape, true),
            ]
            return object(event, &rng, depth: 0, mutateOneIn: mutateOneIn)
        }
        var bytes = Array(("[" + events.joined(separator: ",") + "]").utf8)
        if Int.random(in: 0..<4, using: &rng) == 0 { damage(&bytes, &rng) }
        return bytes
    }

    static func damage<R: RandomNumberGenerator>(_ bytes: inout [UInt8], _ rng: inout R) {
        JSONFuzzCorpus.damage(&bytes, &rng, with: [0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D, 0x00, 0x0A, 0x20, 0x80, 0xC3, 0xFF, 0x31, 0x2D, 0x65, 0x2E, 0x6E])
    }
}
