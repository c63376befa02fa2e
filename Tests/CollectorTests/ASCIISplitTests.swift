// split(ascii:) against the stdlib's split(separator:) as the oracle, on a fixed corpus and random ASCII text.

@testable import Collector
import Testing

@Suite struct ASCIISplitTests {
    static let corpus = [
        "", ";", ";;", "a", "a;b", ";a;b;", "a;;b", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "/intake/v2/events?flushed=true", "?", "a?b?c", "x;y;z;;", "é;ü;ñ", "日本;語",
    ]

    func expectSame(_ text: String, _ separator: Character, _ maxSplits: Int, _ omitting: Bool) {
        let byte = separator.asciiValue!
        let ours = text.split(ascii: byte, maxSplits: maxSplits, omittingEmptySubsequences: omitting)
        let oracle = text.split(separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: omitting)
        #expect(ours == oracle, "\(text.debugDescription) at \(separator), maxSplits \(maxSplits), omitting \(omitting)")
        let sub = text.dropFirst(min(1, text.count))  // on a Substring that does not start at its base's start
        #expect(sub.split(ascii: byte, maxSplits: maxSplits, omittingEmptySubsequences: omitting)
            == sub.split(separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: omitting))
    }

    @Test func sameAsTheStdlibOnTheCorpus() {
        for text in Self.corpus {
            for separator: Character in [";", "?", "&"] {
                for maxSplits in [0, 1, 2, Int.max] {
                    for omitting in [true, false] { expectSame(text, separator, maxSplits, omitting) }
                }
            }
        }
    }

    @Test func sameAsTheStdlibOnRandomText() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", ";", "=", " ", "&", "é"]
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...12, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            expectSame(text, ";", Int.random(in: 0...3, using: &generator), Bool.random(using: &generator))
        }
    }

    @Test func splitOnceFindsTheFirstSeparator() {
        #expect("/intake/v2/events?flushed=true".splitOnce(ascii: UInt8(ascii: "?")) == ("/intake/v2/events", "flushed=true"))
        let none = "/intake/v2/events".splitOnce(ascii: UInt8(ascii: "?"))
        #expect(none.0 == "/intake/v2/events" && none.1 == nil)
        let empty = "a?".splitOnce(ascii: UInt8(ascii: "?"))
        #expect(empty.0 == "a" && empty.1 == "")
    }
}
