import FoundationEssentials
import LambdaWire
import TestSupport
import Testing

/// LambdaWire's JSON reader and writer against FoundationEssentials' JSONDecoder/JSONEncoder as the oracle.
@Suite("JSON reader and writer, differential against Foundation")
struct JSONDifferentialTests {
    @Test func fixedCorpusDecodesAsFoundationDoes() {
        var mismatches: [OracleMismatch] = []
        for input in JSONFuzzCorpus.all { mismatches += JSONOracle.compareAll(input) }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5).map(\.description))")
        #expect(JSONFuzzCorpus.all.count >= 200)
    }

    /// A bounded, seeded run (the same inputs every time): generated documents, a third of them damaged.
    @Test func seededRandomInputsDecodeAsFoundationDoes() {
        var rng = SeededGenerator(seed: 0x1A4_7E12)
        var mismatches: [OracleMismatch] = []
        var accepted = 0, refused = 0
        for _ in 0..<3_000 {
            let input = JSONFuzzCorpus.randomInput(&rng)
            mismatches += JSONOracle.compareAll(input)
            if (try? JSONDecoder().decode(OracleTree.self, from: Data(input))) != nil { accepted += 1 } else { refused += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5).map(\.description))")
        // The run is only worth something when it reaches both answers often.
        #expect(accepted > 500 && refused > 500, "accepted \(accepted), refused \(refused)")
    }

    @Test func nestingLimitIsFoundations() throws {
        func nested(_ depth: Int) -> [UInt8] { Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8) }
        _ = try JSONScanner.parse(nested(512))
        #expect(throws: JSONError.self) { try JSONScanner.parse(nested(513)) }
        do {
            _ = try JSONScanner.parse(nested(100_000))
            Issue.record("100,000 nested arrays were accepted")
        } catch {
            #expect(error.code == .tooDeep)
        }
    }

    @Test func scalarsResolveLazily() throws {
        let node = try JSONScanner.parse(Array(#"{"id":"a","n":01,"s":"\ud800"}"#.utf8))
        guard case .number(let n)? = node["n"], case .string(let s)? = node["s"], case .string(let id)? = node["id"] else {
            Issue.record("unexpected shape: \(node)")
            return
        }
        #expect(try id.string() == "a")
        #expect(throws: JSONError.self) { try n.integer(Int.self) }
        #expect(throws: JSONError.self) { try s.string() }
    }

    /// What `JSONNodeEncoder` writes is byte for byte what Foundation's JSONEncoder writes with sorted keys and
    /// unescaped slashes, and Foundation reads it back to the same value.
    @Test func seededRandomValuesEncodeAsFoundationDoes() throws {
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var rng = SeededGenerator(seed: 7)
        var differences: [String] = []
        for _ in 0..<2_000 {
            let tree = JSONFuzzCorpus.randomTree(&rng)
            let ours = try JSONNodeEncoder().encode(tree)
            let theirs = Array(try foundation.encode(tree))
            let readBack = try JSONDecoder().decode(OracleTree.self, from: Data(ours))
            let theirsReadBack = try JSONDecoder().decode(OracleTree.self, from: Data(theirs))
            if ours != theirs || readBack != theirsReadBack {
                differences.append("\(String(decoding: ours, as: UTF8.self)) vs \(String(decoding: theirs, as: UTF8.self))")
            }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, first: \(differences.prefix(3))")
    }

    @Test func wireTypesEncodeAsFoundationDoes() throws {
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func check<T: Encodable>(_ value: T) throws {
            let ours = try JSONNodeEncoder().encode(value)
            let theirs = Array(try foundation.encode(value))
            #expect(ours == theirs, "\(String(decoding: ours, as: UTF8.self)) vs \(String(decoding: theirs, as: UTF8.self))")
        }
        try check(RegisterRequest(events: [.invoke, .shutdown]))
        try check(ErrorResponse(errorType: "Extension.Crash", errorMessage: "line 1\nline \"2\"\t\u{1}/é"))
        try check(TelemetrySubscription(
            destination: TelemetryDestination(URI: "http://sandbox.localdomain:1234/telemetry"),
            types: [.platform, .function], buffering: TelemetryBuffering(maxItems: 1000, maxBytes: 262_144, timeoutMs: 25)))
        try check(ExtensionEvent.invoke(requestId: "r1", deadlineMs: 1_795_643_349_172, invokedFunctionArn: "arn:x",
                                        tracing: InvokeTracing(value: "Root=1")))
        try check(ExtensionEvent.shutdown(reason: .spindown, deadlineMs: 5))
        let batch = try JSONDecoder().decode([TelemetryEvent].self, from: Data(JSONFuzzCorpus.texts[8].utf8))
        try check(batch)
        try check(JSONValue.object(["a": .array([.number(1.5), .number(-0.0), .null, .bool(true), .string("x")])]))
        try check(Float(0.1))
    }

    @Test func nonFiniteDoublesAreRefused() {
        #expect(throws: (any Error).self) { try JSONNodeEncoder().encode([Double.nan]) }
        #expect(throws: (any Error).self) { try JSONNodeEncoder().encode(Double.infinity) }
    }
}
