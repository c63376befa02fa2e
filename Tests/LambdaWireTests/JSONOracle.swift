// The differential oracle: the same input goes to FoundationEssentials' JSONDecoder and to LambdaWire's
// `JSONNodeDecoder`, decoded into the same Decodable type through the same `init(from:)`; both must give
// equal values or both must refuse. Writing is checked the other way round: what `JSONNodeEncoder`
// writes, Foundation must read back as it reads what its own JSONEncoder writes for the same value.

import FoundationEssentials
import LambdaWire
import TestSupport

/// Any JSON value, decoded the way the collector's `IntakeJSON` is (Bool, then Int64, then Double...).
enum OracleTree: Codable, Equatable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([OracleTree]), object([String: OracleTree])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([OracleTree].self) { self = .array(v) }
        else { self = .object(try c.decode([String: OracleTree].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }
}

/// Reads only `id`: what lies elsewhere is delimited but never resolved, by either decoder.
struct OracleOnlyID: Decodable, Equatable {
    var id: String?
}

/// Small scalars and nested optionals, to reach the integer and float conversions of every width.
struct OracleScalars: Decodable, Equatable {
    var a: Int8?
    var b: UInt16?
    var c: Int32?
    var d: UInt64?
    var e: Float?
    var f: Double?
    var g: [Int]?
    var h: Bool?
}

/// One disagreement between the two decoders.
struct OracleMismatch: CustomStringConvertible {
    var type: String
    var input: [UInt8]
    var foundation: String
    var lambdaWire: String

    var description: String {
        let shown = String(decoding: input.prefix(200), as: UTF8.self).debugDescription
        return "\(type) on \(shown) (\(input.count) bytes, hex \(input.prefix(40).map { String($0, radix: 16) })): Foundation \(foundation), LambdaWire \(lambdaWire)"
    }
}

enum JSONOracle {
    /// Decodes `input` as `type` with both decoders; nil when they agree.
    static func compare<T: Decodable & Equatable>(_ type: T.Type, _ input: [UInt8]) -> OracleMismatch? {
        let expected: Result<T, any Error> = Result { try JSONDecoder().decode(T.self, from: Data(input)) }
        let actual: Result<T, any Error> = Result { try JSONNodeDecoder().decode(T.self, from: input) }
        switch (expected, actual) {
        case (.success(let a), .success(let b)) where a == b: return nil
        case (.failure, .failure): return nil
        default:
            func show(_ r: Result<T, any Error>) -> String {
                switch r {
                case .success(let v): "decoded \(String(describing: v).prefix(300))"
                case .failure(let e): "refused (\(String(describing: e).prefix(200)))"
                }
            }
            return OracleMismatch(type: "\(T.self)", input: input, foundation: show(expected), lambdaWire: show(actual))
        }
    }

    /// Foundation against a direct (non-Codable) reader of the same type.
    static func compareDirect<T: Decodable & Equatable>(
        _ type: T.Type, _ input: [UInt8], _ read: ([UInt8]) throws(JSONError) -> T
    ) -> OracleMismatch? {
        let expected: Result<T, any Error> = Result { try JSONDecoder().decode(T.self, from: Data(input)) }
        let actual: Result<T, any Error> = Result { () throws(JSONError) in try read(input) }.mapError { $0 as any Error }
        switch (expected, actual) {
        case (.success(let a), .success(let b)) where a == b: return nil
        case (.failure, .failure): return nil
        default:
            return OracleMismatch(type: "\(T.self) (direct)", input: input, foundation: "\(expected)".prefix(300).description,
                                  lambdaWire: "\(actual)".prefix(300).description)
        }
    }

    /// Every type the oracle compares on one input. Integer reads of numbers of 2^53 and more that are not
    /// plain integers are left out: Foundation re-reads those through `Decimal`, and stops the process on some.
    static func compareAll(_ input: [UInt8]) -> [OracleMismatch] {
        var found: [OracleMismatch?] = [
            compare(OracleOnlyID.self, input),
            compare(String.self, input),
            compare(Bool.self, input),
            compare([TelemetryEvent].self, input),
            compare(RegisterResponse.self, input),
            compare(ErrorResponse.self, input),
        ]
        if !JSONFuzzCorpus.hasLargeNonPlainNumber(input) {
            found += [
                compare(OracleTree.self, input),
                compare([String: OracleTree].self, input),
                compare(OracleScalars.self, input),
                compare(ExtensionEvent.self, input),
                compareDirect(ExtensionEvent.self, input) { (bytes) throws(JSONError) in try ExtensionEvent.decode(from: bytes) },
                compare(Int64.self, input),
                compare(Double.self, input),
            ]
        }
        return found.compactMap { $0 }
    }
}
