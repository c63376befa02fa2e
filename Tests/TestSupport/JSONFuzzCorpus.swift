// Inputs for the differential JSON tests (LambdaWireTests, CollectorTests): a fixed corpus of the shapes the extension reads and of the
// ways JSON goes wrong, and a seeded generator that builds documents and then damages them.

/// A small deterministic generator (SplitMix64): the same seed gives the same inputs on every machine.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum JSONFuzzCorpus {
    /// Hand-picked inputs, as text.
    public static let texts: [String] = [
        // What the extension reads.
        #"{"eventType":"INVOKE","deadlineMs":1795643349172,"requestId":"d08d","invokedFunctionArn":"arn:aws:lambda:us-east-1:1:function:f","tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-5f35"}}"#,
        #"{"eventType":"SHUTDOWN","deadlineMs":1.795643352396e12,"shutdownReason":"spindown"}"#,
        #"{"eventType":"SHUTDOWN","deadlineMs":50.0,"shutdownReason":"Timeout"}"#,
        #"{"eventType":"INVOKE","deadlineMs":"soon"}"#,
        #"{"functionName":"f","functionVersion":"$LATEST","handler":"app.handler","accountId":"123"}"#,
        #"{"functionName":"f","functionVersion":"$LATEST"}"#,
        #"{"errorMessage":"boom","errorType":"Extension.Crash"}"#,
        #"[{"time":"2026-11-25T21:53:10.456Z","type":"platform.start","record":{"requestId":"r1","version":"$LATEST"}}]"#,
        #"[{"time":"2026-11-25T21:53:10.456Z","type":"platform.report","record":{"requestId":"r1","status":"success","metrics":{"durationMs":1.5,"billedDurationMs":2,"memorySizeMB":128,"maxMemoryUsedMB":60,"initDurationMs":100.25}}}]"#,
        #"[{"time":"2026-11-25T21:53:10.456Z","type":"platform.runtimeDone","record":{"requestId":"r1","status":"error","errorType":"Runtime.Exit","metrics":{"durationMs":1,"producedBytes":42},"spans":[{"name":"responseLatency","start":"2026-11-25T21:53:10.400Z","durationMs":0.5}]}}]"#,
        #"[{"time":"2026-11-25T21:53:10.456Z","type":"function","record":"hello\n"},{"time":"2026-11-25T21:53:10.457Z","type":"function","record":{"level":"INFO","msg":"x","n":[1,2.5,null,true]}}]"#,
        #"[{"time":"t","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"python:3.12","instanceMaxMemory":134217728}}]"#,
        #"[{"time":"t","type":"platform.logsDropped","record":{"reason":"r","droppedRecords":3,"droppedBytes":1000}}]"#,
        #"[{"time":"t","type":"platform.fault","record":"RequestId: x Process exited"}]"#,
        #"[{"time":"t","type":"platform.somethingNew","record":{"a":[{}]}}]"#,
        #"[{"time":"t","type":"platform.report","record":{"requestId":"r1"}}]"#,
        #"{"transaction":{"id":"abc","trace_id":"def","faas":{"execution":"r1"},"duration":1.5,"x":01}}"#,
        #"{"id":"a","x":01,"y":1.,"z":-,"w":"\ud800","v":"\x"}"#,
        #"{"id":"a","id":"b"}"#,
        #"{"id":"\u00e9","\u00e9":1,"e\u0301":2}"#,
        #"{"id":null}"#, #"{"id":1}"#, #"{"a":1,"b":2,}"#, #"[1,2,]"#, #"[1,,2]"#, #"[,]"#, #"{,}"#, #"{"a":1,,"b":2}"#,
        // Scalars and numbers.
        "0", "-0", "1", "-1", "01", "-01", "1.", ".5", "+1", "1e", "1e+", "1e-", "1E5", "1e05", "1.5e3", "1.25e1", "0.1e1",
        "1.0", "-1.0", "1.0000000000000001", "0.5", "1e-400", "-1e-400", "0e-400", "0.000e5", "0.0e1", "0.00e1", "0e5", "0.0000e5", "0.00000e5", "-0.000e5", "1e400", "-1e400",
        "9007199254740991", "9007199254740992", "9007199254740993", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
        "123456789012345678901234567890", "1-2", "1+2", "1.2.3", "1e5e5", "1.e5", "-.5", "--1", "0x10", "Infinity", "NaN",
        "127", "128", "-128", "-129", "255", "256", "65535", "65536", "3.4028235e38", "3.5e38", "1e-50", "1.17549435e-38",
        "true", "false", "null", "tru", "nul", "True", "NULL", "truex", " true ", "\ttrue\r\n",
        // Strings.
        #""""#, #""a""#, #""\"""#, #""\\""#, #""\/""#, #""\b\f\n\r\t""#, #""\u0000""#, #""\u0041""#, #""\u00e9""#,
        #""\uD83D\uDE00""#, #""\ud83d\ude00""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800\""#,
        #""\ud800\udbff""#, #""\uDFFF\uD800""#, #""\u12""#, #""\u12"""#, #""\uGHIJ""#, #""\u+123""#, #""\u-123""#,
        #""\x""#, #""\'""#, #""\""#, #""abc"#, "\"a\tb\"", "\"a\nb\"", "\"\u{7f}\"", "\"é\"", "\"😀\"", "\"\u{2028}\"",
        // Structure.
        "", " ", "[", "]", "{", "}", "[]", "{}", "[[]]", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{1:2}", "{'a':1}",
        "[1 2]", "[1]]", "[1]x", "1 2", "{}{}", "[\"a\":1]", "{\"a\":1\"b\":2}", "/* c */ 1", "[1] // c",
        "\u{a0}1", "\u{feff}1", "[\u{2028}]",
    ]

    /// Inputs that text literals cannot spell: byte order marks, UTF-16/32, invalid UTF-8, NUL bytes, nesting.
    public static let byteInputs: [[UInt8]] = {
        var inputs: [[UInt8]] = [
            [0xEF, 0xBB, 0xBF] + Array("1".utf8), [0xEF, 0xBB, 0xBF], [0xEF, 0xBB],
            [0xFE, 0xFF, 0x00, 0x31], [0xFF, 0xFE, 0x31, 0x00], [0x00, 0x31], [0x31, 0x00], [0x00, 0x00, 0x00, 0x31],
            [0x31, 0x00, 0x00, 0x00], [0x00, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x00, 0x31], [0xFE, 0xFF, 0x00, 0x00, 0x31, 0x00, 0x00, 0x00],
            [0x00, 0x5B, 0x00, 0x31, 0x00, 0x5D], [0x5B, 0x00, 0x31, 0x00, 0x5D, 0x00], [0x5B, 0x00, 0x31, 0x00, 0x5D],
            [0xFE, 0xFF, 0xD8, 0x00, 0x00, 0x31], [0x22, 0x00, 0xD8, 0x22, 0x00],
            [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xC3, 0xA9, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0x80, 0x22],
            [0x22, 0xC3, 0x5C, 0x6E, 0xA9, 0x22], [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],
            [0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0x61, 0x22, 0x2C, 0x22, 0x78, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D],
            [0x5B, 0x31, 0x5D, 0x00], [0x00], [0x31, 0x00, 0x32], [0xFF], [0x20, 0x00, 0x31],
        ]
        for depth in [511, 512, 513, 2000] {
            inputs.append(Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8))
            inputs.append(Array((String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)).utf8))
        }
        inputs.append(Array((String(repeating: "[", count: 600)).utf8))
        return inputs
    }()

    public static var all: [[UInt8]] { texts.map { Array($0.utf8) } + byteInputs }

    // MARK: random documents

    public static let pieces: [String] = [
        "\\n", "\\\"", "\\\\", "\\/", "\\u0000", "\\u001f", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\udc00", "\\uzzzz",
        "\\x", "\t", "\n", "é", "😀", "a", "id", "\u{7f}", "\u{2028}",
    ]
    public static let numbers: [String] = [
        "0", "-0", "1", "-1", "42", "1.5", "-2.25", "1e3", "1E-3", "1.0", "2.5e-3", "01", "1.", "-", "1e", "1e400", "1e-400",
        "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.0000000000000001",
        "127", "128", "255", "-129", "65536", "4294967296", "3.5e38", "1-2", "1.2.3", "0.000e5", "0e5", "0.0e-1", "0.00e1",
    ]
    public static let keys: [String] = [
        "id", "a", "b", "c", "d", "e", "f", "g", "h", "time", "type", "record", "eventType", "deadlineMs", "requestId",
        "functionName", "functionVersion", "handler", "errorMessage", "errorType", "shutdownReason", "tracing", "status",
        "metrics", "durationMs", "é", "e\\u0301",
    ]
    public static let types: [String] = [
        "platform.start", "platform.report", "platform.runtimeDone", "function", "extension", "platform.fault",
        "platform.initStart", "platform.logsDropped", "platform.unknown", "INVOKE", "SHUTDOWN", "success",
    ]

    public static func randomString<R: RandomNumberGenerator>(_ rng: inout R) -> String {
        var s = "\""
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            if Bool.random(using: &rng) { s += types.randomElement(using: &rng)! } else { s += pieces.randomElement(using: &rng)! }
        }
        return s + "\""
    }

    public static func randomValue<R: RandomNumberGenerator>(_ rng: inout R, depth: Int) -> String {
        let pick = Int.random(in: 0..<(depth > 4 ? 6 : 9), using: &rng)
        switch pick {
        case 0: return "null"
        case 1: return Bool.random(using: &rng) ? "true" : "false"
        case 2, 3: return numbers.randomElement(using: &rng)!
        case 4, 5: return randomString(&rng)
        case 6:
            let n = Int.random(in: 0...4, using: &rng)
            return "[" + (0..<n).map { _ in randomValue(&rng, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            let n = Int.random(in: 0...5, using: &rng)
            return "{" + (0..<n).map { _ in
                "\"\(keys.randomElement(using: &rng)!)\":" + randomValue(&rng, depth: depth + 1)
            }.joined(separator: ",") + "}"
        }
    }

    /// One random input: a generated document (sometimes shaped as a telemetry batch or an event), then
    /// damaged in a few random places now and then.
    public static func randomInput<R: RandomNumberGenerator>(_ rng: inout R) -> [UInt8] {
        var text: String
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            let n = Int.random(in: 1...3, using: &rng)
            text = "[" + (0..<n).map { _ in
                #"{"time":"2026-11-25T21:53:10.456Z","type":"\#(types.randomElement(using: &rng)!)","record":\#(randomValue(&rng, depth: 1))}"#
            }.joined(separator: ",") + "]"
        case 1:
            text = #"{"eventType":"\#(["INVOKE", "SHUTDOWN", "x"].randomElement(using: &rng)!)","deadlineMs":\#(numbers.randomElement(using: &rng)!),"requestId":\#(randomString(&rng))}"#
        default:
            text = randomValue(&rng, depth: 0)
        }
        var bytes = Array(text.utf8)
        if Int.random(in: 0..<3, using: &rng) == 0 {
            damage(&bytes, &rng, with: [0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D, 0x00, 0x0A, 0x20, 0x80, 0xC3, 0xFF, 0x31, 0x2D, 0x65, 0x2E])
        }
        return bytes
    }

    /// One to three random slips: a byte replaced by or inserted from `interesting`, a byte removed, or the rest cut.
    public static func damage<R: RandomNumberGenerator>(_ bytes: inout [UInt8], _ rng: inout R, with interesting: [UInt8]) {
        for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: bytes[at] = interesting.randomElement(using: &rng)!
            case 1: bytes.insert(interesting.randomElement(using: &rng)!, at: at)
            case 2: bytes.remove(at: at)
            default: bytes = Array(bytes[..<at])
            }
        }
    }
}

// MARK: random values, for the writer

extension JSONFuzzCorpus {
    /// A string of scalars from every class the writer treats differently: control characters, `"`, `\`, `/`,
    /// DEL, the line separators, ASCII, the rest of the BMP, and beyond it.
    public static func randomText<R: RandomNumberGenerator>(_ rng: inout R) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            let value: UInt32
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: value = UInt32.random(in: 0..<0x20, using: &rng)
            case 1: value = [0x22, 0x5C, 0x2F, 0x7F, 0x2028, 0x2029, 0xFEFF, 0xFFFF, 0x10FFFF].randomElement(using: &rng)!
            case 2: value = UInt32.random(in: 0x20..<0x7F, using: &rng)
            case 3: value = UInt32.random(in: 0x80..<0xD800, using: &rng)
            default: value = UInt32.random(in: 0xE000...0x10FFFF, using: &rng)
            }
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        return String(scalars)
    }

    /// A finite double: small ones, and any bit pattern (subnormals, huge, negative zero).
    public static func randomDouble<R: RandomNumberGenerator>(_ rng: inout R) -> Double {
        var value: Double
        repeat {
            value = Bool.random(using: &rng) ? Double(bitPattern: rng.next()) : Double.random(in: -1e6...1e6, using: &rng)
        } while !value.isFinite
        return value
    }
}

extension JSONFuzzCorpus {
    /// Whether some number-like token (sign or digit, then digits, `.`, `e`, signs) has a fraction or exponent
    /// and a magnitude of 2^53 or more. Looks everywhere, strings included: it may only leave out too much.
    public static func hasLargeNonPlainNumber(_ input: [UInt8]) -> Bool {
        var index = 0
        while index < input.count {
            let byte = input[index]
            guard byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39) else {
                index += 1
                continue
            }
            let start = index
            index += 1
            while index < input.count, "0123456789.+-eE".utf8.contains(input[index]) { index += 1 }
            let token = input[start..<index]
            let plain = !token.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            if !plain {
                let mantissaDigits = token.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
                    .filter { $0 >= 0x30 && $0 <= 0x39 }.drop { $0 == 0x30 }.count
                if let value = Double(String(decoding: token, as: UTF8.self)), value.magnitude >= 9_007_199_254_740_992 { return true }
                // Unparseable or overflowing tokens with many digits or an exponent: leave out as well.
                if Double(String(decoding: token, as: UTF8.self)) == nil, mantissaDigits > 15 || token.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) { return true }
            }
        }
        return false
    }
}
