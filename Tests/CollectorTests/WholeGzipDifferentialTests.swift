import CompressNIO
import NIOCore
import Testing

@testable import Collector

/// The libdeflate path (`WholeGzip`) against the zlib path as the oracle: for every body, the same bytes or the same
/// refusal (`IntakeError.code`) from `IntakeDecoder.decompress` as from zlib alone.
@Suite struct WholeGzipDifferentialTests {
    static let cap = 256 * 1024

    /// What zlib alone makes of a gzip body: the path every body took before libdeflate.
    static func zlibOnly(_ body: ByteBuffer, maxBytes: Int = cap) -> Result<ByteBuffer, IntakeError> {
        do throws(IntakeError) {
            return .success(try IntakeDecoder.decompress(body, with: [.gzip()], encoding: "gzip", maxBytes: maxBytes))
        } catch { return .failure(error) }
    }

    static func decoded(_ body: ByteBuffer, maxBytes: Int = cap) -> Result<ByteBuffer, IntakeError> {
        do throws(IntakeError) {
            return .success(try IntakeDecoder.decompress(body, contentEncoding: "gzip", maxBytes: maxBytes))
        } catch { return .failure(error) }
    }

    /// Both answer alike; returns whether the body decoded.
    @discardableResult
    static func expectSame(_ body: ByteBuffer, maxBytes: Int = cap, _ label: @autoclosure () -> String) -> Bool {
        switch (decoded(body, maxBytes: maxBytes), zlibOnly(body, maxBytes: maxBytes)) {
        case (.success(let got), .success(let want)):
            #expect(got == want, "\(label()): different bytes")
            return true
        case (.failure(let got), .failure(let want)):
            #expect(got.code == want.code, "\(label()): \(got) vs zlib's \(want)")
        case (let got, let want):
            Issue.record("\(label()): \(got) vs zlib's \(want)")
        }
        return false
    }

    /// ndjson like an agent's flush, `size` bytes or so, from a seeded generator.
    static func ndjson(size: Int, seed: inout UInt64) -> ByteBuffer {
        var text = #"{"metadata":{"service":{"name":"demo","agent":{"name":"python","version":"6.26.2"}}}}"# + "\n"
        while text.utf8.count < size {
            let id = String(next(&seed), radix: 16)
            text += #"{"span":{"id":"\#(id)","name":"SELECT \#(next(&seed) % 1000) FROM t","duration":\#(next(&seed) % 10_000).5}}"# + "\n"
        }
        return ByteBuffer(string: text)
    }

    static func next(_ state: inout UInt64) -> UInt64 {
        // SplitMix64: a fixed seed gives the same corpus on every run.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func gzip(_ plain: ByteBuffer, level: Int32) throws -> ByteBuffer {
        var input = plain
        return try input.compress(with: .gzip(configuration: .init(compressionLevel: level)))
    }

    @Test("the build decodes gzip with libdeflate where the layer needs it")
    func libdeflateIsBuiltWhereInstalled() {
        // scripts/test installs libdeflate-dev, so the suite always runs the libdeflate path against zlib.
        #expect(WholeGzip.isAvailable)
    }

    @Test("well-formed bodies of every size and level decode to zlib's bytes, and through libdeflate")
    func wellFormed() throws {
        var seed: UInt64 = 16
        for size in [0, 1, 100, 2_354, 16_000, 70_000, 250_000] {
            let plain = Self.ndjson(size: size, seed: &seed)
            for level: Int32 in [0, 1, 6, 9] {
                let body = try Self.gzip(size == 0 ? ByteBuffer() : plain, level: level)
                #expect(Self.expectSame(body, "size \(size) level \(level)"))
                if WholeGzip.isAvailable {
                    #expect(WholeGzip.decode(body, maxBytes: Self.cap) == (size == 0 ? ByteBuffer() : plain), "size \(size) level \(level)")
                }
            }
        }
    }

    @Test("bodies over the cap are refused alike, by the size trailer or by the data")
    func overTheCap() throws {
        var seed: UInt64 = 7
        let plain = Self.ndjson(size: 40_000, seed: &seed)
        let body = try Self.gzip(plain, level: 6)
        for cap in [plain.readableBytes - 1, plain.readableBytes, plain.readableBytes + 1, 1_000] {
            Self.expectSame(body, maxBytes: cap, "cap \(cap)")
        }
        // A trailer that lies small: libdeflate runs out of room and zlib's cap decides.
        var lying = body
        lying.setInteger(UInt32(100), at: lying.writerIndex - 4, endianness: .little)
        Self.expectSame(lying, maxBytes: 1_000, "trailer says 100 bytes")
        Self.expectSame(lying, "trailer says 100 bytes, large cap")
    }

    @Test("two gzip members in one body decode as zlib decodes them")
    func multiMember() throws {
        var seed: UInt64 = 3
        let first = try Self.gzip(Self.ndjson(size: 3_000, seed: &seed), level: 6)
        let second = try Self.gzip(Self.ndjson(size: 500, seed: &seed), level: 1)
        var both = first
        var tail = second
        both.writeBuffer(&tail)
        Self.expectSame(both, "two members")
        // Two equal members: the last trailer's size is the first member's, so only the input left over tells.
        var twice = first
        var again = first
        twice.writeBuffer(&again)
        Self.expectSame(twice, "the same member twice")
    }

    @Test("truncated, bit-flipped and garbage bodies: the same answer as zlib's, seeded random run")
    func damaged() throws {
        var seed: UInt64 = 2026
        var decodedDamaged = 0
        for round in 0..<300 {
            let plain = Self.ndjson(size: Int(Self.next(&seed) % 20_000) + 1, seed: &seed)
            let body = try Self.gzip(plain, level: Int32(Self.next(&seed) % 10))
            var damaged = body
            switch round % 4 {
            case 0:  // cut anywhere
                damaged = body.getSlice(at: body.readerIndex, length: Int(Self.next(&seed) % UInt64(body.readableBytes)))!
            case 1:  // one bit flipped anywhere (header, data, CRC or size)
                let at = body.readerIndex + Int(Self.next(&seed) % UInt64(body.readableBytes))
                damaged.setInteger(body.getInteger(at: at, as: UInt8.self)! ^ (1 << (Self.next(&seed) % 8)), at: at)
            case 2:  // a few bytes overwritten in the deflate data
                for _ in 0..<3 {
                    let at = body.readerIndex + 10 + Int(Self.next(&seed) % UInt64(body.readableBytes - 18))
                    damaged.setInteger(UInt8(truncatingIfNeeded: Self.next(&seed)), at: at)
                }
            default:  // not gzip at all
                damaged = ByteBuffer(bytes: (0..<Int(Self.next(&seed) % 200)).map { _ in UInt8(truncatingIfNeeded: Self.next(&seed)) })
            }
            if Self.expectSame(damaged, "round \(round)") { decodedDamaged += 1 }
        }
        // Some damage leaves a valid stream (a flipped bit in the header's OS or mtime bytes): both paths agree there too.
        #expect(decodedDamaged < 300)
    }
}
