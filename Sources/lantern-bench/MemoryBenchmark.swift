// `lantern-bench memory`: the collector's peak RSS (VmHWM of /proc/PID/status) in three stages of one
// sandbox: idle after init, at a paced invoke rate with the agent imitation sending, and under an agent
// flood (many concurrent gzip intake requests straight to its receiver port). The high-water mark is
// reset between stages (`echo 5 > /proc/PID/clear_refs`) so each figure is that stage's own peak.

import ArgumentParser
import AsyncHTTPClient
import CompressNIO
import Foundation
import NIOCore
import Synchronization

/// Collector peak RSS benchmark.
struct MemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Peak RSS of lantern-extension: idle, at --rate invokes/s, under an agent flood.")

    @Option(help: "Invokes per second in the load stage.") var rate = 100
    @Option(help: "Seconds of the load stage.") var seconds = 10
    @Option(help: "Agent requests in the flood stage.") var floodRequests = 4_000
    @Option(help: "Concurrent agents in the flood stage.") var floodConcurrency = 16
    @Option(help: "Measure this lantern-extension binary (e.g. the layer's static one) instead of the release build's.")
    var collector: String?
    @OptionGroup var sandbox: SandboxOptions
    @OptionGroup var json: JSONOutput

    func run() async throws {
        guard rate > 0, seconds > 0, floodRequests > 0, floodConcurrency > 0 else { throw ValidationError("options must be positive") }
        let result = try await Self.measure(
            rate: rate, seconds: seconds, floodRequests: floodRequests, floodConcurrency: floodConcurrency,
            collector: collector, settings: sandbox.settings)
        for line in result.summary { print(line) }
        try json.write(result)
    }

    struct Result: Sendable, Codable {
        var idleKB: Int
        var loadKB: Int
        var floodKB: Int
        var loadInvokes: Int
        var achievedRate: Double
        var floodRequests: Int
        var floodEvents: Int
        var floodStatuses: [String: Int]
        /// The binary measured.
        var binary: String = ""
        /// Invokes (50 ms each) run during the flood to keep a frozen sandbox thawed; 0 with --no-freeze.
        var floodInvokes: Int = 0
        /// How the emulator ran the sandbox (its own words) and the flags that asked for it.
        var sandbox: String = ""
        var settings = SandboxSettings()

        var summary: [String] {
            [
                "memory: lantern-extension peak RSS (VmHWM) of \(binary)",
                "  \(sandbox)",
                "  idle after init:                     \(fixed(Double(idleKB) / 1024)) MB",
                "  \(loadInvokes) invokes at \(fixed(achievedRate, 1))/s with agent data: \(fixed(Double(loadKB) / 1024)) MB",
                "  agent flood (\(floodRequests) requests, \(floodEvents) events): \(fixed(Double(floodKB) / 1024)) MB   statuses \(floodStatuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))"
                    + (floodInvokes > 0 ? "   during \(floodInvokes) invokes of 50 ms (frozen between invokes)" : ""),
            ]
        }
    }

    static func peakKB(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else {
            throw BenchFailure("no VmHWM in /proc/\(pid)/status")
        }
        return kb
    }

    /// Resets the peak to the current RSS (Linux ≥ 4.0).
    static func resetPeak(_ pid: pid_t) throws {
        try "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
    }

    static func measure(
        rate: Int, seconds: Int, floodRequests: Int, floodConcurrency: Int, collector: String? = nil,
        settings: SandboxSettings = SandboxSettings()
    ) async throws -> Result {
        var binaries = try BenchBinaries.locate()
        if let collector {
            guard FileManager.default.isExecutableFile(atPath: collector) else { throw BenchFailure("\(collector) is not executable") }
            binaries.collector = collector
        }
        let apm = try await CountingAPMServer.start()
        let client = HTTPClient()
        let sandbox = try await SandboxRun.start(
            binaries, setup: .collector, apmServerURL: "http://127.0.0.1:\(apm.port)", settings: settings)
        let description = await sandbox.sandboxDescription
        do {
            try await sandbox.waitForLines("EXTENSION lantern-extension ready", count: 1)
            guard let pid = sandbox.extensionPID("lantern-extension") else { throw BenchFailure("lantern-extension's pid not found") }
            try await Task.sleep(for: .seconds(1))
            let idle = try peakKB(pid)

            // Load: invokes paced at `rate` (sequential; an invoke that runs late delays the rest).
            try resetPeak(pid)
            let total = rate * seconds
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<total {
                let due = start + .milliseconds(index * 1000 / rate)
                if clock.now < due { try await Task.sleep(until: due, clock: clock) }
                _ = try await sandbox.invoke(client)
            }
            let achieved = Double(total) / (clock.now - start).milliseconds * 1000
            try await sandbox.waitForLines("REPORT", count: total)
            let load = try peakKB(pid)

            // Flood: agents posting straight to the receiver, then one invoke so the collector flushes. A frozen
            // collector reads nothing between invokes (in Lambda agents send only during one), so with the freeze
            // on the flood runs during a stream of 50 ms invokes; the agents' requests wait out the short freezes.
            try resetPeak(pid)
            let floodDone = FloodDone()
            let invokeURL = sandbox.invokeURL
            let thawing: Task<Int, any Error>? = settings.freeze ? Task {
                var count = 0
                while !floodDone.isSet {
                    _ = try await SandboxRun.invoke(invokeURL, client, body: #"{"kind":"success","sleepMs":50}"#)
                    count += 1
                }
                return count
            } : nil
            let eventsPerRequest = 20
            var lines = [#"{"metadata":{"service":{"name":"bench","agent":{"name":"python","version":"6.26.2"}}}}"#]
            for index in 0..<eventsPerRequest {
                lines.append(#"{"span":{"id":"\#(index)","trace_id":"0af7651916cd43dd8448eb211c80319c","parent_id":"b7ad6b7169203331","name":"SELECT","type":"db","start":1.5,"duration":3.0}}"#)
            }
            var plain = ByteBuffer(string: lines.joined(separator: "\n") + "\n")
            let body = try plain.compress(with: .gzip())
            let url = "http://127.0.0.1:\(sandbox.receiverPort)/intake/v2/events"
            let statuses = try await withThrowingTaskGroup(of: [String: Int].self) { group in
                for agent in 0..<floodConcurrency {
                    group.addTask {
                        var seen: [String: Int] = [:]
                        var index = agent
                        while index < floodRequests {
                            var request = HTTPClientRequest(url: url)
                            request.method = .POST
                            request.headers.add(name: "Content-Encoding", value: "gzip")
                            request.headers.add(name: "Content-Type", value: "application/x-ndjson")
                            request.body = .bytes(body)
                            let response = try await client.execute(request, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 16)
                            seen[String(response.status.code), default: 0] += 1
                            index += floodConcurrency
                        }
                        return seen
                    }
                }
                var all: [String: Int] = [:]
                for try await part in group { all.merge(part, uniquingKeysWith: +) }
                return all
            }
            floodDone.set()
            let floodInvokes = try await thawing?.value ?? 0
            _ = try await sandbox.invoke(client)
            try await sandbox.waitForLines("REPORT", count: total + floodInvokes + 1)
            let flood = try peakKB(pid)

            await sandbox.stop()
            sandbox.removeFiles()
            try await client.shutdown()
            try await apm.stop()
            return Result(
                idleKB: idle, loadKB: load, floodKB: flood, loadInvokes: total, achievedRate: achieved,
                floodRequests: floodRequests, floodEvents: floodRequests * eventsPerRequest, floodStatuses: statuses,
                binary: binaries.collector, floodInvokes: floodInvokes, sandbox: description, settings: settings)
        } catch {
            await sandbox.stop()
            try? await client.shutdown()
            try? await apm.stop()
            throw error
        }
    }
}

/// Set once the agent flood is over: the invokes that keep a frozen sandbox thawed stop.
private final class FloodDone: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
