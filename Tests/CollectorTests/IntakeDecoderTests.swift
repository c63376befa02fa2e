import Collector
import LanternStore
import NIOCore
import Testing

@Suite("Intake decoding")
struct IntakeDecoderTests {
    @Test("lines are classified by their first key, metadata found wherever it is")
    func classifiesLines() {
        let (batch, rejected) = IntakeDecoder.decodeIntake(
            Sample.body([Sample.span(id: "s1"), Sample.metadata, Sample.transaction(id: "t1", requestID: "req-1")]),
            flushed: true, receivedAt: 1)
        #expect(rejected.isEmpty)
        #expect(batch.metadata.map { String(buffer: $0) } == Sample.metadata)
        #expect(batch.events.count == 2)
        #expect(IntakeDecoder.kind(of: batch.events[0]) == .span)
        #expect(batch.transactions == [ObservedTransaction(transactionID: "t1", requestID: "req-1")])
        #expect(batch.flushed)
    }

    @Test("a transaction without faas.execution is observed with a nil request id")
    func transactionWithoutExecution() {
        let batch = Sample.agentBatch([Sample.metadata, Sample.transaction(id: "t2")])
        #expect(batch.transactions == [ObservedTransaction(transactionID: "t2", requestID: nil)])
    }

    @Test("malformed lines are refused with their line numbers, the rest is kept")
    func malformedLines() {
        let body = Sample.body([
            Sample.metadata, "not json", #"{"span":{"id":"x""#, #"{"unknown":{}}"#, #"{"transaction": {"id": }"#,
            Sample.span(id: "ok"), "", "   ",
        ])
        let (batch, rejected) = IntakeDecoder.decodeIntake(body, flushed: false, receivedAt: 1)
        #expect(rejected.map(\.line) == [2, 3, 4, 5])
        #expect(batch.events.count == 1)
        #expect(batch.metadata != nil)
    }

    @Test("gzip, deflate (zlib and raw) and plain bodies decode to the same text")
    func encodings() throws {
        let plain = Sample.body([Sample.metadata, Sample.span(id: "a")])
        let gzip = try IntakeDecoder.decompress(Sample.gzip(plain), contentEncoding: "gzip", maxBytes: 1 << 20)
        let zlib = try IntakeDecoder.decompress(Sample.zlib(plain), contentEncoding: "deflate", maxBytes: 1 << 20)
        var rawInput = plain
        let raw = try IntakeDecoder.decompress(
            rawInput.compress(with: .deflate()), contentEncoding: "Deflate", maxBytes: 1 << 20)
        let identity = try IntakeDecoder.decompress(plain, contentEncoding: nil, maxBytes: 1 << 20)
        #expect(gzip == plain)
        #expect(zlib == plain)
        #expect(raw == plain)
        #expect(identity == plain)
    }

    @Test("a body that is not what its Content-Encoding says is refused as undecodable")
    func wrongGzip() {
        #expect(throws: IntakeError.self) {
            try IntakeDecoder.decompress(Sample.body([Sample.metadata]), contentEncoding: "gzip", maxBytes: 1 << 20)
        }
        do {
            _ = try IntakeDecoder.decompress(ByteBuffer(string: "xx"), contentEncoding: "br", maxBytes: 1 << 20)
            Issue.record("br accepted")
        } catch {
            #expect(error.code == .undecodableBody)
        }
    }

    @Test("decompressed size is capped (gzip bomb) and plain bodies too")
    func decompressedCap() throws {
        let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 100_000)
        do {
            _ = try IntakeDecoder.decompress(Sample.gzip(big), contentEncoding: "gzip", maxBytes: 10_000)
            Issue.record("bomb accepted")
        } catch {
            #expect((error as? IntakeError)?.code == .bodyTooLarge)
        }
        #expect(throws: IntakeError.self) { try IntakeDecoder.decompress(big, contentEncoding: "", maxBytes: 10_000) }
        let exact = try IntakeDecoder.decompress(Sample.gzip(big), contentEncoding: "gzip", maxBytes: 100_000)
        #expect(exact.readableBytes == 100_000)
    }

    @Test("registration: metadata + transaction, transaction only, and the 422 cases")
    func registrations() throws {
        let both = try IntakeDecoder.decodeRegistration(
            Sample.body([Sample.metadata, Sample.transaction(id: "t9")]), requestID: "r", receivedAt: 1)
        #expect(both.transactionID == "t9")
        #expect(both.traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(both.metadata != nil)
        let only = try IntakeDecoder.decodeRegistration(Sample.body([Sample.transaction(id: "t8")]), requestID: "r", receivedAt: 1)
        #expect(only.metadata == nil && only.transactionID == "t8")

        let cases: [(String, IntakeError.Code)] = [
            (Sample.span(id: "x"), .malformedLine),
            (#"{"transaction":{"trace_id":"abc"}}"#, .missingTransaction),
            (Sample.metadata, .missingTransaction),
            ("garbage", .malformedLine),
        ]
        for (line, code) in cases {
            do {
                _ = try IntakeDecoder.decodeRegistration(Sample.body([line]), requestID: "r", receivedAt: 1)
                Issue.record("accepted \(line)")
            } catch {
                #expect(error.code == code, "\(line)")
            }
        }
    }
}
