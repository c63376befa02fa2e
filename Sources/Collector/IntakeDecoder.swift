// Turns an agent's request body into an `AgentBatch` or a `TransactionRegistration`: decompress
// (gzip / deflate / plain, capped), split ndjson, classify each line by its first key, and decode
// only the transaction lines (for `transaction.id` and `faas.execution`). Other lines pass through
// untouched: the APM Server validates them, and parsing every span here would cost the hot path.

import CompressNIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore

/// The kind of an intake v2 ndjson line, from its first key.
public enum IntakeLineKind: String, Sendable, CaseIterable {
    case metadata, transaction, span, error, metricset, log
}

/// Decodes agent request bodies.
public enum IntakeDecoder {
    /// Decompresses `body` according to `contentEncoding`, refusing output beyond `maxBytes`.
    public static func decompress(_ body: ByteBuffer, contentEncoding: String?, maxBytes: Int) throws(IntakeError)
        -> ByteBuffer
    {
        let encoding = contentEncoding?.trimmingASCIISpaces().lowercased() ?? ""
        let algorithms: [CompressionAlgorithm]
        switch encoding {
        case "", "identity":
            guard body.readableBytes <= maxBytes else {
                throw IntakeError(.bodyTooLarge, "body of \(body.readableBytes) bytes exceeds \(maxBytes)")
            }
            return body
        case "gzip", "x-gzip":
            if let decoded = WholeGzip.decode(body, maxBytes: maxBytes) { return decoded }
            algorithms = [.gzip()]
        // HTTP's "deflate" is zlib-wrapped (RFC 9110), but some clients send raw deflate.
        case "deflate": algorithms = [.zlib(), .deflate()]
        default:
            throw IntakeError(.undecodableBody, "unsupported Content-Encoding '\(encoding)'")
        }
        return try decompress(body, with: algorithms, encoding: encoding, maxBytes: maxBytes)
    }

    /// The zlib path (CompressNIO): every algorithm in turn, the first that decodes wins.
    static func decompress(_ body: ByteBuffer, with algorithms: [CompressionAlgorithm], encoding: String, maxBytes: Int)
        throws(IntakeError) -> ByteBuffer
    {
        if body.readableBytes == 0 { return body }
        var lastError: String = ""
        for algorithm in algorithms {
            var input = body
            do {
                // One byte over the cap tells "too large" apart from "exactly the cap".
                return try input.decompress(with: algorithm, maxSize: maxBytes + 1)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw IntakeError(.bodyTooLarge, "decompressed body exceeds \(maxBytes) bytes")
            } catch {
                lastError = "\(error)"
            }
        }
        throw IntakeError(.undecodableBody, "body is not valid \(encoding) data (\(lastError))")
    }

    /// The non-empty lines of an ndjson body, without line terminators.
    public static func lines(_ body: ByteBuffer) -> [ByteBuffer] {
        var result: [ByteBuffer] = []
        let start = body.readerIndex
        body.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            let count = bytes.count
            var lineStart = 0
            while lineStart <= count {
                // memchr finds each newline a word at a time; a byte loop here was 1% of an invocation.
                let newline = lineStart < count ? memchr(base + lineStart, Int32(UInt8(ascii: "\n")), count - lineStart) : nil
                let index = newline.map { base.distance(to: UnsafeRawPointer($0)) } ?? count
                var lineEnd = index
                if lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                if lineEnd > lineStart, !isBlank(bytes, lineStart, lineEnd) {
                    result.append(body.getSlice(at: start + lineStart, length: lineEnd - lineStart)!)
                }
                lineStart = index + 1
            }
        }
        return result
    }

    /// The first key of a JSON object line, e.g. `metadata` for `{"metadata":{...}}`; nil when the line does
    /// not start like an object with a string key or does not end with `}`. This is a shape check, not a
    /// parse: the full line is parsed only where its fields are needed.
    public static func firstKey(of line: ByteBuffer) -> String? {
        line.withUnsafeReadableBytes { bytes -> String? in
            var index = 0
            let count = bytes.count
            func skipSpace() { while index < count, isSpace(bytes[index]) { index += 1 } }
            skipSpace()
            guard index < count, bytes[index] == UInt8(ascii: "{") else { return nil }
            index += 1
            skipSpace()
            guard index < count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            let keyStart = index
            while index < count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") { index += 1 }
            guard index < count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[keyStart..<index]), as: UTF8.self)
            var last = count - 1
            while last > index, isSpace(bytes[last]) { last -= 1 }
            guard bytes[last] == UInt8(ascii: "}") else { return nil }
            return key
        }
    }

    /// The kind of a line, nil when it is not one of the intake v2 event kinds.
    public static func kind(of line: ByteBuffer) -> IntakeLineKind? {
        firstKey(of: line).flatMap(IntakeLineKind.init(rawValue:))
    }

    /// The fields of a transaction line the collector acts on.
    struct TransactionLine: Decodable {
        struct Body: Decodable {
            struct FaaS: Decodable { var execution: String? }
            var id: String?
            var trace_id: String?
            var faas: FaaS?
        }
        var transaction: Body
    }

    /// Decodes an intake body into a batch. Lines that are not JSON objects with a known key are left out
    /// and reported in `rejected` (1-based line numbers with a reason); everything else is kept.
    public static func decodeIntake(
        _ body: ByteBuffer, flushed: Bool, receivedAt: Int64
    ) -> (batch: AgentBatch, rejected: [(line: Int, reason: String)]) {
        var batch = AgentBatch(bytes: body.readableBytes, flushed: flushed, receivedAt: receivedAt)
        var rejected: [(line: Int, reason: String)] = []
        for (offset, line) in lines(body).enumerated() {
            guard let kind = kind(of: line) else {
                rejected.append((offset + 1, "not a JSON object starting with a known event key"))
                continue
            }
            switch kind {
            case .metadata:
                // The first metadata line wins if an agent sends two.
                if batch.metadata == nil { batch.metadata = line }
            case .transaction:
                guard let decoded = try? TransactionLine(line: line) else {
                    rejected.append((offset + 1, "transaction line is not valid JSON"))
                    continue
                }
                if let id = decoded.transaction.id {
                    batch.transactions.append(
                        ObservedTransaction(transactionID: id, requestID: decoded.transaction.faas?.execution))
                }
                batch.events.append(line)
            case .span, .error, .metricset, .log:
                batch.events.append(line)
            }
        }
        return (batch, rejected)
    }

    /// Decodes a `/register/transaction` body: an optional metadata line, then one transaction line.
    public static func decodeRegistration(_ body: ByteBuffer, requestID: String, receivedAt: Int64) throws(IntakeError)
        -> TransactionRegistration
    {
        var metadata: ByteBuffer?
        for line in lines(body) {
            switch kind(of: line) {
            case .metadata:
                metadata = line
            case .transaction:
                guard let decoded = try? TransactionLine(line: line) else {
                    throw IntakeError(.malformedLine, "transaction line is not valid JSON")
                }
                guard let id = decoded.transaction.id, !id.isEmpty else {
                    throw IntakeError(.missingTransaction, "transaction has no transaction.id")
                }
                return TransactionRegistration(
                    requestID: requestID, transactionID: id, traceID: decoded.transaction.trace_id,
                    metadata: metadata, transaction: line, receivedAt: receivedAt)
            default:
                throw IntakeError(.malformedLine, "first key is neither metadata nor transaction")
            }
        }
        throw IntakeError(.missingTransaction, "no transaction line in the registration")
    }
}

private func isSpace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
}

private func isBlank(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
    for index in start..<end where !isSpace(bytes[index]) { return false }
    return true
}

extension StringProtocol where SubSequence == Substring {
    func trimmingASCIISpaces() -> Substring {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}
