// `lantern-bench overhead`: what the collector adds to every invoke. Three sandboxes in turn, the same
// sample function: no extension, the no-op extension (the floor), and lantern-extension with the agent
// imitation on and a local APM Server. Caller latency from the invoker; post-runtime time (runtime
// response to release) from the emulator's REPORT line.

import ArgumentParser
import Foundation
import AsyncHTTPClient

/// Post-runtime overhead benchmark.
struct OverheadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "Caller latency and post-runtime time per invoke: no extension, no-op extension, lantern-extension.")

    @Option(help: "Sequential invokes per run (after the warm-up).") var invokes = 200
    @Option(help: "Warm-up invokes per run (not counted).") var warmup = 10
    @Option(help: "A lantern-extension binary to measure instead of the one beside lantern-bench (e.g. the layer's).")
    var collector: String?

    func run() async throws {
        guard invokes > 0, warmup >= 0 else { throw ValidationError("--invokes must be positive, --warmup not negative") }
        let result = try await Self.measure(invokes: invokes, warmup: warmup, collector: collector)
        for line in result.summary { print(line) }
    }

    /// One sandbox's figures.
    struct Run: Sendable, Codable {
        var setup: ExtensionSetup
        var callerMs: Percentiles
        var postRuntimeMs: Percentiles
        var shutdownMs: Double?
        /// The extension's CPU time (user + system, all its threads) per measured invoke; nil without one.
        var extensionCPUMsPerInvoke: Double?
    }

    struct Result: Sendable, Codable {
        var invokes: Int
        /// The lantern-extension binary measured.
        var collectorBinary: String
        var runs: [Run]

        func run(_ setup: ExtensionSetup) -> Run? { runs.first { $0.setup == setup } }

        var summary: [String] {
            var lines = ["overhead: \(invokes) sequential invokes per run (sample function, kind success, sleepMs 0; lantern-extension = \(collectorBinary))"]
            let floor = run(.noop)
            for run in runs {
                var line = "  \(run.setup.label.padding(18)) caller p50 \(fixed(run.callerMs.p50)) ms  p95 \(fixed(run.callerMs.p95)) ms  p99 \(fixed(run.callerMs.p99)) ms"
                line += "   post-runtime p50 \(fixed(run.postRuntimeMs.p50, 3)) ms  p99 \(fixed(run.postRuntimeMs.p99, 3)) ms"
                if let cpu = run.extensionCPUMsPerInvoke { line += "   extension CPU \(fixed(cpu, 3)) ms/invoke" }
                if let floor, run.setup != .noop {
                    line += "   vs no-op: caller p50 ×\(fixed(run.callerMs.p50 / floor.callerMs.p50)), post-runtime p50 \(signed(run.postRuntimeMs.p50 - floor.postRuntimeMs.p50)) ms, p99 \(signed(run.postRuntimeMs.p99 - floor.postRuntimeMs.p99)) ms"
                }
                lines.append(line)
            }
            return lines
        }
    }

    static func measure(invokes: Int, warmup: Int, collector: String? = nil) async throws -> Result {
        let binaries = try BenchBinaries.locate(collector: collector)
        return try await withBenchPeers { apm, client in
            var runs: [Run] = []
            for setup in ExtensionSetup.allCases {
                let sandbox = try await SandboxRun.start(
                    binaries, setup: setup, apmServerURL: setup == .collector ? "http://127.0.0.1:\(apm.port)" : nil)
                let run = try await sandbox.use { sandbox in
                    var caller: [Double] = []
                    // Looked up after the warm-up: the emulator may start the extension with the first invoke.
                    var pid: pid_t?
                    var cpuBefore: Double?
                    for index in 0..<(warmup + invokes) {
                        if index == warmup {
                            pid = setup.fileName.flatMap { sandbox.extensionPID($0) }
                            cpuBefore = pid.flatMap(cpuMilliseconds)
                        }
                        let ms = try await sandbox.invoke(client)
                        if index >= warmup { caller.append(ms) }
                    }
                    // Read before the REPORT wait and the stop: only the measured invokes count.
                    let cpuAfter = pid.flatMap(cpuMilliseconds)
                    let reports = try await sandbox.waitForLines("REPORT", count: warmup + invokes)
                    let post = reports.suffix(invokes).compactMap { field("Post Runtime Duration", in: $0) }
                    guard post.count == invokes else { throw BenchFailure("REPORT lines lack Post Runtime Duration") }
                    await sandbox.stop()
                    let shutdown = setup.fileName.flatMap { name in
                        sandbox.lines("SHUTDOWN \(name) exited").first.flatMap(millisecondsFigure)
                    }
                    var cpu: Double?
                    if let cpuBefore, let cpuAfter { cpu = (cpuAfter - cpuBefore) / Double(invokes) }
                    return Run(setup: setup, callerMs: Percentiles(caller), postRuntimeMs: Percentiles(post), shutdownMs: shutdown,
                               extensionCPUMsPerInvoke: cpu)
                }
                runs.append(run)
                sandbox.removeFiles()
            }
            return Result(invokes: invokes, collectorBinary: binaries.collector, runs: runs)
        }
    }
}

func signed(_ value: Double, _ decimals: Int = 3) -> String { (value >= 0 ? "+" : "") + fixed(value, decimals) }

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

/// User + system CPU time of process `pid` so far (all threads), from /proc/PID/stat, in milliseconds.
func cpuMilliseconds(_ pid: pid_t) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    // After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
}
