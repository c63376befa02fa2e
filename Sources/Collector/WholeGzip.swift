// An agent's gzip request body decoded in one call with libdeflate, when the build found it (Debian's
// libdeflate-dev; the layer build requires it). zlib streams the same body with about twice the instructions
// (58k against 27k for an elastic-apm flush; docs/layer.md), a twentieth of an invocation's. Anything libdeflate
// cannot settle alone, multi-member streams, a size trailer past the cap or not matching the data, corrupt input,
// goes back to the zlib path, which words the errors; `WholeGzipDifferentialTests` holds both paths to one answer.

#if canImport(CLibDeflate)
import CLibDeflate
import NIOCore
import Synchronization

/// Whole-buffer gzip decoding with libdeflate.
enum WholeGzip {
    static let isAvailable = true

    /// The decompressed body, or nil when the caller should decode it with zlib instead.
    static func decode(_ body: ByteBuffer, maxBytes: Int) -> ByteBuffer? {
        let count = body.readableBytes
        // Header (10) and trailer (8): anything shorter is not a gzip member.
        guard count >= 18,
              // ISIZE, the last four bytes: the decompressed size mod 2^32 (RFC 1952), which the output must match.
              let trailer = body.getInteger(at: body.readerIndex + count - 4, endianness: .little, as: UInt32.self),
              Int(trailer) <= maxBytes
        else { return nil }
        let size = Int(trailer)
        guard let decompressor = Decompressors.shared.take() else { return nil }
        defer { Decompressors.shared.give(decompressor) }
        var output = ByteBufferAllocator().buffer(capacity: max(size, 1))
        let decoded = body.withUnsafeReadableBytes { input in
            var consumed = 0
            var produced = 0
            let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
                let result = libdeflate_gzip_decompress_ex(
                    decompressor.pointer, input.baseAddress, input.count, out.baseAddress, size, &consumed, &produced)
                return result == LIBDEFLATE_SUCCESS ? produced : 0
            }
            // One member that fills the input exactly and the size its trailer promised.
            return written == size && consumed == input.count && produced == size
        }
        return decoded ? output : nil
    }
}

/// libdeflate's decompressor state (~10 KB, zeroed when made: a third of a decode's cost), kept for reuse.
private struct Decompressor: @unchecked Sendable {
    // @unchecked: the pointer is used by one decode at a time; `Decompressors` hands it out and takes it back.
    let pointer: OpaquePointer
}

/// The spare decompressors: one per decode that runs at the same time (one, on the collector's single event loop).
private final class Decompressors: Sendable {
    static let shared = Decompressors()
    private let spare = Mutex<[Decompressor]>([])

    func take() -> Decompressor? {
        if let ready = spare.withLock({ $0.popLast() }) { return ready }
        return libdeflate_alloc_decompressor().map(Decompressor.init)
    }

    func give(_ decompressor: Decompressor) {
        let kept = spare.withLock { spare in
            guard spare.count < 4 else { return false }
            spare.append(decompressor)
            return true
        }
        if !kept { libdeflate_free_decompressor(decompressor.pointer) }
    }
}
#else
import NIOCore

/// Whole-buffer gzip decoding: not in this build (no libdeflate-dev), so every body takes the zlib path.
enum WholeGzip {
    static let isAvailable = false
    static func decode(_ body: ByteBuffer, maxBytes: Int) -> ByteBuffer? { nil }
}
#endif
