import Foundation

/// X-Ray trace headers: Lambda puts one on every invoke, generating it when the caller sent none.
enum TraceID {
    /// `Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=0`.
    static func generate(now: Date = Date()) -> String {
        let seconds = String(UInt32(truncatingIfNeeded: Int64(now.timeIntervalSince1970)), radix: 16)
        let epoch = String(repeating: "0", count: max(0, 8 - seconds.count)) + seconds
        return "Root=1-\(epoch)-\(hex(12));Parent=\(hex(8));Sampled=0"
    }

    /// The `Parent=` value of a trace header, used as the telemetry span id.
    static func parent(of header: String) -> String? {
        for part in header.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == "Parent" { return String(kv[1]) }
        }
        return nil
    }

    static func hex(_ bytes: Int) -> String {
        var s = ""
        for _ in 0..<bytes {
            let b = UInt8.random(in: 0...255)
            s += (b < 16 ? "0" : "") + String(b, radix: 16)
        }
        return s
    }
}
