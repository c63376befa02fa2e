// What the demo's invoker asks the sample function to do, and in what proportions.

import ArgumentParser
import Foundation

/// The behaviours the sample function knows, chosen per invocation by the event payload.
enum DemoKind: String, CaseIterable, Sendable, Codable, ExpressibleByArgument {
    /// Returns quickly after a few milliseconds of work.
    case success
    /// Returns after most of a second of work (still well inside the timeout).
    case slow
    /// Fails with a function error after the agent has flushed.
    case error
    /// Sleeps past the deadline: the sandbox resets with SHUTDOWN `timeout`, the agent never flushes.
    case timeout
    /// Exits the runtime process before responding: the sandbox resets with SHUTDOWN `failure`.
    case crash

    /// Whether this kind ends the execution environment (timeout or crash), so the next invocation is a cold start.
    var resetsSandbox: Bool { self == .timeout || self == .crash }

    /// A plausible amount of work for this kind, in milliseconds.
    func sleepMilliseconds<G: RandomNumberGenerator>(using generator: inout G) -> Int {
        switch self {
        case .success: Int.random(in: 5...40, using: &generator)
        case .slow: Int.random(in: 600...1_400, using: &generator)
        case .error: Int.random(in: 5...30, using: &generator)
        case .timeout: 0
        case .crash: Int.random(in: 5...20, using: &generator)
        }
    }
}

/// Weights per kind, e.g. `success=80,slow=8,error=6,timeout=3,crash=3`.
struct DemoMix: Sendable, Equatable, CustomStringConvertible {
    /// The mix `lantern demo` uses unless told otherwise.
    static let standard = DemoMix(weights: [.success: 80, .slow: 8, .error: 6, .timeout: 3, .crash: 3])

    /// Weight per kind; kinds not listed have weight 0.
    private(set) var weights: [DemoKind: Int]

    init(weights: [DemoKind: Int]) { self.weights = weights.filter { $0.value > 0 } }

    /// Parses `kind=weight,...`. Unknown kinds, negative or non-numeric weights and an all-zero mix are errors.
    init(parsing text: String) throws {
        var weights: [DemoKind: Int] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let kind = DemoKind(rawValue: pair[0]) else {
                throw DemoError(.badOption, "bad mix entry '\(part)': expected KIND=WEIGHT with KIND one of \(DemoKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let weight = Int(pair[1]), weight >= 0 else {
                throw DemoError(.badOption, "bad weight in mix entry '\(part)': expected a whole number >= 0")
            }
            guard weights[kind] == nil else { throw DemoError(.badOption, "mix names '\(kind.rawValue)' twice") }
            weights[kind] = weight
        }
        self.init(weights: weights)
        guard total > 0 else { throw DemoError(.badOption, "the mix '\(text)' has no positive weight") }
    }

    /// The sum of the weights.
    var total: Int { weights.values.reduce(0, +) }

    var description: String {
        DemoKind.allCases.compactMap { kind in weights[kind].map { "\(kind.rawValue)=\($0)" } }.joined(separator: ",")
    }

    /// How many invocations of each kind `count` invocations hold: proportional, rounded by largest remainder,
    /// so the counts always add up to `count`.
    func counts(total count: Int) -> [DemoKind: Int] {
        guard count > 0, total > 0 else { return [:] }
        var result: [DemoKind: Int] = [:]
        var remainders: [(DemoKind, Int)] = []
        for kind in DemoKind.allCases {
            let weight = weights[kind] ?? 0
            result[kind] = weight * count / total
            remainders.append((kind, weight * count % total))
        }
        var left = count - result.values.reduce(0, +)
        // Largest remainder first; ties go to the kind listed first, so the result is deterministic.
        for (kind, _) in remainders.enumerated().sorted(by: { $0.element.1 != $1.element.1 ? $0.element.1 > $1.element.1 : $0.offset < $1.offset }).map(\.element) where left > 0 {
            result[kind, default: 0] += 1
            left -= 1
        }
        return result.filter { $0.value > 0 }
    }

    /// `count` kinds in the proportions of `counts(total:)`, shuffled by a seeded generator (same seed, same order).
    /// The last one does not reset the sandbox when the mix allows it, so a run ends on a live environment
    /// whose SHUTDOWN `spindown` the collector can record.
    func schedule(count: Int, seed: UInt64) -> [DemoKind] {
        let counts = counts(total: count)
        var kinds = DemoKind.allCases.flatMap { Array(repeating: $0, count: counts[$0] ?? 0) }
        var generator = SeededGenerator(seed: seed)
        kinds.shuffle(using: &generator)
        if let last = kinds.indices.last, kinds[last].resetsSandbox,
            let healthy = kinds.lastIndex(where: { !$0.resetsSandbox })
        {
            kinds.swapAt(last, healthy)
        }
        return kinds
    }

    /// One kind drawn at random in proportion to the weights.
    func draw<G: RandomNumberGenerator>(using generator: inout G) -> DemoKind {
        var pick = Int.random(in: 0..<max(total, 1), using: &generator)
        for kind in DemoKind.allCases {
            let weight = weights[kind] ?? 0
            if pick < weight { return kind }
            pick -= weight
        }
        return .success
    }
}

/// SplitMix64: a tiny seeded generator so a demo run can be repeated invocation for invocation.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
