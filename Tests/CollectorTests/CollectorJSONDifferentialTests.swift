// The collector's JSON paths against FoundationEssentials as the oracle: `IntakeJSON` read straight from the
// parsed tree, the transaction fields of an intake line, the level fields of a log line, and every line the
// collector writes (`JSONLine.encode`), byte for byte against Foundation's JSONEncoder with the options the
// collector used before (sorted keys, `/` unescaped).

@testable import Collector
import FoundationEssentials
import NIOCore
import TestSupport
import Testing

@Suite("Collector JSON, differential against Foundation")
struct CollectorJSONDifferentialTests {
    static let foundationEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Same value or both refused.
    func agree<T: Equatable>(_ a: Result<T, any Error>, _ b: Result<T, any Error>) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)): x == y
        case (.failure, .failure): true
        default: false
        }
    }

    struct TransactionFields: Equatable {
        var id: String?, traceID: String?, execution: String?
        init(_ line: IntakeDecoder.TransactionLine) {
            id = line.transaction.id
            traceID = line.transaction.trace_id
            execution = line.transaction.faas?.execution
        }
    }

    struct Levels: Equatable {
        var level: String?, levelname: String?, severity: String?, logLevel: String?
        init(_ fields: LogLevel.LevelFields) {
            level = fields.level
            levelname = fields.levelname
            severity = fields.severity
            logLevel = fields.logLevel
        }
    }

    /// The inputs: the shared corpus and a seeded random run, each also wrapped as an intake transaction line.
    static func inputs() -> [[UInt8]] {
        var rng = SeededGenerator(seed: 0xC011_EC70)
        let base = JSONFuzzCorpus.all + (0..<1_500).map { _ in JSONFuzzCorpus.randomInput(&rng) }
        return base + base.map { Array(#"{"transaction":"#.utf8) + $0 + Array("}".utf8) }
    }

    @Test func readsAsFoundationDoes() {
        var mismatches: [String] = []
        for input in Self.inputs() {
            let data = Data(input)
            let foundationTransaction = Result {
                TransactionFields(try JSONDecoder().decode(IntakeDecoder.TransactionLine.self, from: data))
            }
            let transaction = agree(
                foundationTransaction,
                Result { TransactionFields(try JSONLine.decode(IntakeDecoder.TransactionLine.self, from: ByteBuffer(bytes: input))) })
                // The direct read the receiver uses (IntakeLines+Node.swift).
                && agree(foundationTransaction, Result { TransactionFields(try IntakeDecoder.TransactionLine(bytes: input)) })
            let foundationLevels = Result { Levels(try JSONDecoder().decode(LogLevel.LevelFields.self, from: data)) }
            let levels = agree(foundationLevels, Result { Levels(try JSONLine.decode(LogLevel.LevelFields.self, bytes: input)) })
                && agree(foundationLevels, Result { Levels(try LogLevel.LevelFields(bytes: input)) })
            var tree = true
            if !JSONFuzzCorpus.hasLargeNonPlainNumber(input) {
                tree = agree(
                    Result { try JSONDecoder().decode(IntakeJSON.self, from: data) },
                    Result { try JSONLine.decode(IntakeJSON.self, bytes: input) })
            }
            if !(transaction && levels && tree) {
                mismatches.append("\(String(decoding: input.prefix(160), as: UTF8.self).debugDescription): transaction \(transaction), levels \(levels), tree \(tree)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }

    static func randomIntake<R: RandomNumberGenerator>(_ rng: inout R, depth: Int = 0) -> IntakeJSON {
        switch Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng))
        case 3: return .double(JSONFuzzCorpus.randomDouble(&rng))
        case 4, 5: return .string(JSONFuzzCorpus.randomText(&rng))
        case 6: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomIntake(&rng, depth: depth + 1) })
        default:
            var members: [String: IntakeJSON] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                members[JSONFuzzCorpus.randomText(&rng)] = randomIntake(&rng, depth: depth + 1)
            }
            return .object(members)
        }
    }

    @Test func writesIntakeJSONAsFoundationDoes() throws {
        var rng = SeededGenerator(seed: 16)
        var differences: [String] = []
        for _ in 0..<2_000 {
            let value = Self.randomIntake(&rng)
            let ours = Array(JSONLine.encode(value).readableBytesView)
            let theirs = Array(try Self.foundationEncoder.encode(value))
            if ours != theirs { differences.append("\(String(decoding: ours, as: UTF8.self)) vs \(String(decoding: theirs, as: UTF8.self))") }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, first: \(differences.prefix(3))")
    }

    @Test func writesTheCollectorsLinesAsFoundationDoes() throws {
        var rng = SeededGenerator(seed: 99)
        var differences: [String] = []
        func check(_ ours: ByteBuffer, _ value: some Encodable) throws {
            let theirs = Array(try Self.foundationEncoder.encode(value))
            if Array(ours.readableBytesView) != theirs {
                differences.append("\(String(buffer: ours)) vs \(String(decoding: theirs, as: UTF8.self))")
            }
        }
        for _ in 0..<500 {
            let text = JSONFuzzCorpus.randomText(&rng)
            let maybe: String? = Bool.random(using: &rng) ? JSONFuzzCorpus.randomText(&rng) : nil
            let faas = FaaSFields(execution: maybe, coldstart: Bool.random(using: &rng) ? nil : true, id: text,
                                  name: maybe, version: Bool.random(using: &rng) ? "$LATEST" : nil)
            let metricset = MetricsetLine(
                timestamp: Int64.random(in: 0...2_000_000_000_000_000, using: &rng), faas: faas,
                durationMs: JSONFuzzCorpus.randomDouble(&rng), billedDurationMs: Double(Int.random(in: 0...900_000, using: &rng)),
                memoryTotalBytes: 134_217_728, memoryFreeBytes: JSONFuzzCorpus.randomDouble(&rng).magnitude,
                coldstartDurationMs: Bool.random(using: &rng) ? JSONFuzzCorpus.randomDouble(&rng) : nil,
                timeoutMs: Bool.random(using: &rng) ? 3000 : nil)
            try check(JSONLine.written(metricset.write(into:)), metricset)
            try check(JSONLine.encode(metricset), metricset)
            let log = LogEventLine(
                timestamp: Int64.random(in: 0...2_000_000_000_000_000, using: &rng), message: text, faas: faas,
                level: maybe, traceID: maybe, transactionID: nil, spanID: Bool.random(using: &rng) ? text : nil)
            try check(JSONLine.written(log.write(into:)), log)
            try check(JSONLine.encode(log), log)
        }
        #expect(differences.isEmpty, "\(differences.count) differences, first: \(differences.prefix(3))")
    }
}
