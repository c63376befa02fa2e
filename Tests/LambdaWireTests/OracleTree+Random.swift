// Random trees for the writer's differential test.

import TestSupport

extension JSONFuzzCorpus {
    static func randomTree<R: RandomNumberGenerator>(_ rng: inout R, depth: Int = 0) -> OracleTree {
        switch Int.random(in: 0..<(depth > 3 ? 6 : 8), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2:
            return .int(Bool.random(using: &rng) ? Int64.random(in: -1000...1000, using: &rng) : Int64(bitPattern: rng.next()))
        case 3: return .double(randomDouble(&rng))
        case 4, 5: return .string(randomText(&rng))
        case 6: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomTree(&rng, depth: depth + 1) })
        default:
            var members: [String: OracleTree] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) { members[randomText(&rng)] = randomTree(&rng, depth: depth + 1) }
            return .object(members)
        }
    }
}
