// Small shared pieces of the benchmarks: percentiles, a free port, and the result rows `all` prints.

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// Nearest-rank percentiles of a sample.
struct Percentiles: Sendable, Codable {
    var count: Int
    var p50: Double
    var p95: Double
    var p99: Double
    var max: Double

    init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        func rank(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))]
        }
        p50 = rank(0.50)
        p95 = rank(0.95)
        p99 = rank(0.99)
        max = sorted.last ?? .nan
    }
}

/// A loopback port that was free a moment ago (bound to port 0, read back, released).
func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    defer { channel.close(promise: nil) }
    guard let port = channel.localAddress?.port else { throw BenchFailure("no free loopback port") }
    return port
}

/// One line of the results table.
struct ResultRow: Sendable, Codable {
    var scenario: String
    var metric: String
    var value: String
    /// The target, if there is one.
    var target: String?
    /// Whether the target was met (nil: no target).
    var met: Bool?
}

/// Formats with a fixed number of decimals (no Foundation formatting in hot code, this is only output).
func fixed(_ value: Double, _ decimals: Int = 2) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let whole = scaled / Int(scale)
    var fraction = String(scaled % Int(scale))
    while fraction.count < decimals { fraction = "0" + fraction }
    return (value < 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + fraction : "")
}

/// Runs `body` with the peers most sandbox benchmarks share: a counting APM Server and an HTTP client for
/// invokes; both are shut down on every path.
func withBenchPeers<T>(_ body: (CountingAPMServer, HTTPClient) async throws -> T) async throws -> T {
    let apm = try await CountingAPMServer.start()
    let client = HTTPClient()
    do {
        let result = try await body(apm, client)
        try await client.shutdown()
        try await apm.stop()
        return result
    } catch {
        try? await client.shutdown()
        try? await apm.stop()
        throw error
    }
}

extension SandboxRun {
    /// Runs `body` against this sandbox; on an error the emulator is stopped before it is rethrown (on success
    /// `body` decides when to stop, since several figures are read after the spin-down). An error after a failed
    /// init (an invoke answered with the init timeout, say) is `SandboxInitFailed`.
    func use<T>(_ body: (SandboxRun) async throws -> T) async throws -> T {
        do {
            return try await body(self)
        } catch {
            await stop()
            if !(error is SandboxInitFailed), initFailed { throw SandboxInitFailed(logTail: String(log.suffix(2000))) }
            throw error
        }
    }
}

/// `--json FILE` of a single scenario: its result as JSON (the shape `all` writes), besides the console summary.
struct JSONOutput: ParsableArguments {
    @Option(name: .customLong("json"), help: ArgumentHelp("Also write the result as JSON to this file.", valueName: "file"))
    var path: String?

    func write<T: Encodable>(_ value: T) throws {
        guard let path else { return }
        try Data(Self.encoded(value).utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Pretty, sorted keys, non-finite numbers as strings (as in bench/results/*.json).
    static func encoded<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
