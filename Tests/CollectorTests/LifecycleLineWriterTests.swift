// The lifecycle lines the collector writes straight into a `JSONWriter` against the Codable path they replaced
// (`JSONLine.encode` of the same `LifecycleEventLine` through `JSONNodeEncoder`, itself held to Foundation's
// JSONEncoder by CollectorJSONDifferentialTests): byte for byte, over random and edge-case facts.

@testable import Collector
import LambdaWire
import LanternStore
import NIOCore
import TestSupport
import Testing

@Suite("Lifecycle lines, direct writer against the Codable encoder")
struct LifecycleLineWriterTests {
    /// Doubles a label can meet: integral and not, either side of the 1e15 switch to fractions, rounding ties,
    /// the extremes, negative zero, and the non-finite values `JSONLine.finite` turns into 0.
    static let edgeDoubles: [Double] = [
        0, -0.0, 1, -1, 0.5, -0.5, 2.5, -2.5, 0.0005, 0.0015, -0.0015, 123.4565, 1e-300, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        999_999_999_999_999, 1e15, -1e15, 1e15 + 0.5, 1e16, 9.2e18, 1e300, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, .leastNormalMagnitude, .nan, .infinity, -.infinity, 0.1 + 0.2, 1.0 / 3,
    ]
    static let edgeTexts: [String] = [
        "", "success", "error", "Runtime.ExitError", "é", "e\u{301}", "😀", "\u{0}", "\u{1f}", "\u{7f}", "\"quoted\"",
        "back\\slash", "a/b", "line\nbreak\r\t\u{8}\u{c}", "\u{2028}\u{2029}", "\u{feff}", "\u{10ffff}",
    ]

    static func text<R: RandomNumberGenerator>(_ rng: inout R) -> String {
        Bool.random(using: &rng) ? edgeTexts.randomElement(using: &rng)! : JSONFuzzCorpus.randomText(&rng)
    }
    static func maybeText<R: RandomNumberGenerator>(_ rng: inout R) -> String? {
        Bool.random(using: &rng) ? nil : text(&rng)
    }
    static func double<R: RandomNumberGenerator>(_ rng: inout R) -> Double {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: edgeDoubles.randomElement(using: &rng)!
        case 1: Double(Int.random(in: -5_000_000...5_000_000, using: &rng)) / 1000
        default: JSONFuzzCorpus.randomDouble(&rng)
        }
    }
    static func maybeDouble<R: RandomNumberGenerator>(_ rng: inout R) -> Double? {
        Bool.random(using: &rng) ? nil : double(&rng)
    }
    static func maybeInt<R: RandomNumberGenerator>(_ rng: inout R) -> Int? {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: nil
        case 1: [0, 1, -1, 128, 10_240, Int.max, Int.min].randomElement(using: &rng)!
        case 2: Int.random(in: -1_000...1_000_000, using: &rng)
        default: Int(bitPattern: UInt(rng.next()))
        }
    }

    static func environment<R: RandomNumberGenerator>(_ rng: inout R) -> LifecycleEnvironment {
        LifecycleEnvironment(environmentID: text(&rng), functionName: maybeText(&rng), functionVersion: maybeText(&rng),
                             initializationType: maybeText(&rng), maxConcurrency: maybeInt(&rng))
    }

    static func facts<R: RandomNumberGenerator>(_ rng: inout R) -> InvocationFacts {
        var facts = InvocationFacts(requestID: text(&rng), invokedAt: Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng))
        facts.functionARN = maybeText(&rng)
        facts.coldStart = Bool.random(using: &rng) ? nil : Bool.random(using: &rng)
        facts.status = Bool.random(using: &rng) ? ["success", "error", "timeout", "failure"].randomElement(using: &rng)! : maybeText(&rng)
        facts.errorType = maybeText(&rng)
        facts.flushReason = Bool.random(using: &rng) ? nil : FlushReason.allCases.randomElement(using: &rng)
        facts.handlerMs = maybeDouble(&rng)
        facts.postRuntimeMs = maybeDouble(&rng)
        facts.totalMs = maybeDouble(&rng)
        facts.reportDurationMs = maybeDouble(&rng)
        facts.billedDurationMs = maybeInt(&rng)
        facts.memorySizeMB = maybeInt(&rng)
        facts.maxMemoryUsedMB = maybeInt(&rng)
        facts.initDurationMs = maybeDouble(&rng)
        facts.timeoutMs = maybeInt(&rng)
        facts.inFlight = maybeInt(&rng)
        facts.proxy = Bool.random(using: &rng) ? nil : ProxyTrigger.allCases.randomElement(using: &rng)
        facts.transactionID = maybeText(&rng)
        facts.traceID = maybeText(&rng)
        return facts
    }

    static func shutdown<R: RandomNumberGenerator>(_ rng: inout R) -> ShutdownRecord {
        // Offsets stay small enough that `deadlineAt - receivedAt` cannot overflow (the builder subtracts).
        let receivedAt = Int64.random(in: -1_000_000...4_000_000_000_000_000, using: &rng)
        func offset(_ rng: inout R) -> Int64? {
            Bool.random(using: &rng) ? nil : receivedAt + Int64.random(in: -10_000_000_000...10_000_000_000, using: &rng)
        }
        return ShutdownRecord(
            environmentID: maybeText(&rng), receivedAt: receivedAt, reason: text(&rng), deadlineAt: offset(&rng),
            pendingInvocations: maybeInt(&rng) ?? 0, proxiesCreated: maybeInt(&rng) ?? 0, flushOutcome: maybeText(&rng),
            flushDurationMs: maybeDouble(&rng), exitedAt: offset(&rng))
    }

    /// Where the two paths differ, as text (nil when the bytes are equal).
    static func difference(_ line: LifecycleEventLine) -> String? {
        let direct = Array(JSONLine.written(line.write(into:)).readableBytesView)
        let codable = Array(JSONLine.encode(line).readableBytesView)
        guard direct != codable else { return nil }
        return "direct \(String(decoding: direct, as: UTF8.self).debugDescription)\n codable \(String(decoding: codable, as: UTF8.self).debugDescription)"
    }

    @Test func invocationAndShutdownLinesMatchTheEncoderByteForByte() {
        var rng = SeededGenerator(seed: 0x11FE_C7C1)
        var differences: [String] = []
        for _ in 0..<3_000 {
            let environment = Self.environment(&rng)
            let invocation = APMEvents.invocationLifecycleLine(Self.facts(&rng), environment: environment)
            if let d = Self.difference(invocation) { differences.append(d) }
            let shutdown = APMEvents.shutdownLifecycleLine(Self.shutdown(&rng), environment: environment)
            if let d = Self.difference(shutdown) { differences.append(d) }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, first: \(differences.prefix(3))")
    }

    @Test func edgeCaseFactsMatchTheEncoderByteForByte() {
        var differences: [String] = []
        // Nothing but the required fields.
        let bare = LifecycleEnvironment(environmentID: "")
        for line in [
            APMEvents.invocationLifecycleLine(InvocationFacts(requestID: "", invokedAt: 0), environment: bare),
            APMEvents.invocationLifecycleLine(InvocationFacts(requestID: "r", invokedAt: .min), environment: bare),
            APMEvents.invocationLifecycleLine(InvocationFacts(requestID: "r", invokedAt: .max), environment: bare),
            APMEvents.shutdownLifecycleLine(ShutdownRecord(receivedAt: 0, reason: ""), environment: bare),
        ] {
            if let d = Self.difference(line) { differences.append(d) }
        }
        // Every edge double in every numeric label, every edge text in every string.
        for (index, value) in Self.edgeDoubles.enumerated() {
            let text = Self.edgeTexts[index % Self.edgeTexts.count]
            var facts = InvocationFacts(requestID: text, invokedAt: -1)
            facts.status = text
            facts.errorType = text
            facts.handlerMs = value
            facts.postRuntimeMs = value
            facts.totalMs = -value
            facts.reportDurationMs = value
            facts.initDurationMs = value
            facts.transactionID = text
            facts.traceID = text
            facts.flushReason = .timeout
            facts.proxy = .shutdown
            let environment = LifecycleEnvironment(environmentID: text, functionName: text, functionVersion: text,
                                                   initializationType: text, maxConcurrency: -index)
            if let d = Self.difference(APMEvents.invocationLifecycleLine(facts, environment: environment)) { differences.append(d) }
            let shutdown = ShutdownRecord(receivedAt: 1_000, reason: text, deadlineAt: -1_000_000, pendingInvocations: -index,
                                          proxiesCreated: index, flushOutcome: text, flushDurationMs: value, exitedAt: 1_001)
            if let d = Self.difference(APMEvents.shutdownLifecycleLine(shutdown, environment: environment)) { differences.append(d) }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, first: \(differences.prefix(3))")
    }

    /// Labels beyond what the builders make: any order, empty, and the same name twice (the later value wins).
    @Test func arbitraryLabelsMatchTheEncoderByteForByte() {
        var rng = SeededGenerator(seed: 0x1ABE_15)
        let names = ["lantern_a", "lantern_b", "lantern_", "lantern_aa", "a", "B", "", "é", "lantern_kind", "lantern_z"]
        var differences: [String] = []
        for _ in 0..<2_000 {
            var labels = LifecycleLabels()
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                labels.strings.append((names.randomElement(using: &rng)!, Self.maybeText(&rng)))
            }
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                labels.numbers.append((names.randomElement(using: &rng)!, Self.maybeDouble(&rng)))
            }
            let faas = FaaSFields(execution: Self.maybeText(&rng), coldstart: Bool.random(using: &rng) ? nil : false,
                                  id: Self.maybeText(&rng), name: Self.maybeText(&rng), version: Self.maybeText(&rng))
            let line = LifecycleEventLine(
                timestamp: Int64(bitPattern: rng.next()), message: Self.text(&rng), level: Self.text(&rng), faas: faas,
                labels: labels, transactionID: Self.maybeText(&rng), traceID: Self.maybeText(&rng))
            if let d = Self.difference(line) { differences.append(d) }
        }
        #expect(differences.isEmpty, "\(differences.count) differences, first: \(differences.prefix(3))")
    }

    /// The builders the collector calls return the direct bytes.
    @Test func buildersWriteTheDirectLine() {
        var facts = InvocationFacts(requestID: "r1", invokedAt: 1_700_000_000_000_000)
        facts.status = "error"
        facts.handlerMs = 12.3456
        facts.billedDurationMs = 13
        let environment = LifecycleEnvironment(environmentID: "env", functionName: "f", maxConcurrency: 1)
        let line = APMEvents.invocationLifecycleLine(facts, environment: environment)
        let built = APMEvents.invocationLifecycle(facts, environment: environment)
        #expect(built == JSONLine.encode(line))
        #expect(String(buffer: built) == #"{"log":{"@timestamp":1700000000000000,"event.dataset":"lantern.lifecycle","faas":{"execution":"r1","name":"f"},"labels":{"lantern_billed_duration_ms":13,"lantern_environment":"env","lantern_handler_ms":12.346,"lantern_kind":"invocation","lantern_max_concurrency":1,"lantern_status":"error"},"log.level":"error","message":"invocation r1: error"}}"#)
    }
}
