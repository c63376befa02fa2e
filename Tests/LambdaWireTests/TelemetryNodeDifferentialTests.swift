// The collector's direct telemetry reader (`TelemetryEvent.decodeBatch`, TelemetryEvent+Node.swift) against
// the Codable path it replaced (`JSONNodeDecoder` → `[TelemetryEvent]`, itself held to Foundation by
// JSONDifferentialTests): on every input the same events, or both refuse.

import LambdaWire
import TestSupport
import Testing

@Suite("Telemetry deliveries, direct reader against the Codable decoder")
struct TelemetryNodeDifferentialTests {
    enum Outcome: Equatable {
        case decoded([TelemetryEvent])
        case refused
    }

    struct Mismatch: CustomStringConvertible {
        var input: [UInt8]
        var codable: Result<[TelemetryEvent], any Error>
        var direct: Result<[TelemetryEvent], any Error>
        var description: String {
            func show(_ r: Result<[TelemetryEvent], any Error>) -> String {
                switch r {
                case .success(let v): "decoded \(String(describing: v).prefix(300))"
                case .failure(let e): "refused (\(String(describing: e).prefix(160)))"
                }
            }
            return "\(String(decoding: input.prefix(300), as: UTF8.self).debugDescription): codable \(show(codable)), direct \(show(direct))"
        }
    }

    /// Nil when both paths give equal events or both refuse; the direct path's events otherwise.
    static func compare(_ input: [UInt8]) -> (mismatch: Mismatch?, accepted: [TelemetryEvent]?) {
        let codable = Result { try JSONNodeDecoder().decode([TelemetryEvent].self, from: input) }
        let direct = Result { () throws(JSONError) in try TelemetryEvent.decodeBatch(from: input) }.mapError { $0 as any Error }
        switch (codable, direct) {
        case (.success(let a), .success(let b)) where a == b: return (nil, b)
        case (.failure, .failure): return (nil, nil)
        default: return (Mismatch(input: input, codable: codable, direct: direct), nil)
        }
    }

    static func run(_ inputs: [[UInt8]]) -> (mismatches: [Mismatch], accepted: Int, refused: Int, types: Set<String>) {
        var mismatches: [Mismatch] = []
        var accepted = 0, refused = 0
        var types = Set<String>()
        for input in inputs {
            let (mismatch, events) = compare(input)
            if let mismatch { mismatches.append(mismatch) }
            if let events {
                accepted += 1
                for event in events { types.insert(event.type) }
            } else {
                refused += 1
            }
        }
        return (mismatches, accepted, refused, types)
    }

    @Test func fixedCorpusReadsAsTheCodablePathDoes() {
        let result = Self.run(JSONFuzzCorpus.all)
        #expect(result.mismatches.isEmpty, "\(result.mismatches.count) mismatches, first: \(result.mismatches.prefix(3))")
        #expect(result.accepted >= 8)
    }

    /// The seeded random documents of JSONDifferentialTests and CollectorJSONDifferentialTests (same seeds).
    @Test func seededRandomDocumentsReadAsTheCodablePathDoes() {
        var inputs: [[UInt8]] = []
        var rng = SeededGenerator(seed: 0x1A4_7E12)
        for _ in 0..<3_000 { inputs.append(JSONFuzzCorpus.randomInput(&rng)) }
        var collectorRNG = SeededGenerator(seed: 0xC011_EC70)
        for _ in 0..<1_500 { inputs.append(JSONFuzzCorpus.randomInput(&collectorRNG)) }
        let result = Self.run(inputs)
        #expect(result.mismatches.isEmpty, "\(result.mismatches.count) mismatches, first: \(result.mismatches.prefix(3))")
        #expect(result.accepted > 50 && result.refused > 1_000, "accepted \(result.accepted), refused \(result.refused)")
    }

    /// Generated deliveries of every event type, clean and with slips (TelemetryBatchGenerator).
    @Test func generatedDeliveriesReadAsTheCodablePathDoes() {
        var rng = SeededGenerator(seed: 0x7E1E_BA7C)
        let inputs = (0..<6_000).map { _ in TelemetryBatchGenerator.batch(&rng) }
        let result = Self.run(inputs)
        #expect(result.mismatches.isEmpty, "\(result.mismatches.count) mismatches, first: \(result.mismatches.prefix(3))")
        // Worth something only if both answers come often and every type is accepted somewhere.
        #expect(result.accepted > 1_500 && result.refused > 1_500, "accepted \(result.accepted), refused \(result.refused)")
        let missing = Set(TelemetryBatchGenerator.records.map(\.type)).subtracting(result.types)
        #expect(missing.isEmpty, "never accepted: \(missing.sorted())")
    }

    /// The samples of TelemetryEventTests and a JSON-format log line, decoded and equal.
    @Test func samplesDecodeTheSameWay() throws {
        for sample in [TelemetryEventTests.classicSample, TelemetryEventTests.lmiSample] {
            let bytes = Array(sample.utf8)
            let direct = try TelemetryEvent.decodeBatch(from: bytes)
            #expect(direct == (try JSONNodeDecoder().decode([TelemetryEvent].self, from: bytes)))
            #expect(direct.count >= 3)
        }
        let jsonLog = Array(#"[{"time":"t","type":"function","record":{"level":"INFO","message":"m","a":[1,{"b":null}],"a":2}}]"#.utf8)
        let direct = try TelemetryEvent.decodeBatch(from: jsonLog)
        #expect(direct == (try JSONNodeDecoder().decode([TelemetryEvent].self, from: jsonLog)))
        guard case .function(.json(let value)) = direct.first?.record else {
            Issue.record("not a JSON log line: \(direct)")
            return
        }
        #expect(value["level"] == .string("INFO"))
        #expect(value["a"] == .array([.number(1), .object(["b": .null])]))
    }
}
