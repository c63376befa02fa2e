// `lantern-bench overhead`: what the collector adds to every invoke. Three sandboxes side by side, invoked
// in turns, the same sample function: no extension, the no-op extension (the floor), and lantern-extension
// with the agent imitation on and a local APM Server. Caller latency from the invoker; post-runtime time (runtime
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
    @Flag(help: ArgumentHelp(
        "Also run lantern-extension with LANTERN_FORWARD_LIFECYCLE=false, in turns with the others.",
        discussion: "The difference in extension CPU per invoke is the cost of forwarding the lifecycle facts."))
    var lifecycleOff = false
    @OptionGroup var sandbox: SandboxOptions
    @OptionGroup var json: JSONOutput

    func run() async throws {
        guard invokes > 0, warmup >= 0 else { throw ValidationError("--invokes must be positive, --warmup not negative") }
        let result = try await Self.measure(
            invokes: invokes, warmup: warmup, collector: collector, lifecycleOff: lifecycleOff, settings: sandbox.settings)
        for line in result.summary { print(line) }
        try json.write(result)
    }

    /// One sandbox's figures.
    struct Run: Sendable, Codable {
        var setup: ExtensionSetup
        /// `lifecycle off`: lantern-extension with `LANTERN_FORWARD_LIFECYCLE=false`.
        var variant: String?
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
        /// How the emulator ran the sandboxes (its own words) and the flags that asked for it.
        var sandbox: String = ""
        var settings = SandboxSettings()
        /// Measurements abandoned because a sandbox's init failed (a child's launch hung, say) and made again.
        var failedInits = 0

        func run(_ setup: ExtensionSetup) -> Run? { runs.first { $0.setup == setup } }

        var summary: [String] {
            var lines = [
                "overhead: \(invokes) sequential invokes per run (sample function, kind success, sleepMs 0; lantern-extension = \(collectorBinary))",
                "  \(sandbox)" + (failedInits > 0 ? "; made again \(failedInits) time(s) after an init failed" : ""),
            ]
            let floor = run(.noop)
            for run in runs {
                let label = run.variant.map { "\(run.setup.label), \($0)" } ?? run.setup.label
                var line = "  \(label.padding(18)) caller p50 \(fixed(run.callerMs.p50)) ms  p95 \(fixed(run.callerMs.p95)) ms  p99 \(fixed(run.callerMs.p99)) ms"
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

    /// The measurement, made again (all three sandboxes) when one's init fails: with the sandbox user, a launch
    /// can hang before its exec.
    static func measure(
        invokes: Int, warmup: Int, collector: String? = nil, lifecycleOff: Bool = false,
        settings: SandboxSettings = SandboxSettings()
    ) async throws -> Result {
        var (result, failed) = try await retryingFailedInit {
            try await measureOnce(
                invokes: invokes, warmup: warmup, collector: collector, lifecycleOff: lifecycleOff, settings: settings)
        }
        result.failedInits = failed
        return result
    }

    private static func measureOnce(
        invokes: Int, warmup: Int, collector: String?, lifecycleOff: Bool, settings: SandboxSettings
    ) async throws -> Result {
        let binaries = try BenchBinaries.locate(collector: collector)
        return try await withBenchPeers { apm, client in
            // The three sandboxes run side by side and take turns of `turn` back-to-back invokes: this machine's
            // speed drifts over seconds (other tenants), and turns give every setup the same share of it, while
            // within a turn each setup still meets its own after-invoke work (reports, store commits) as it would
            // in production. An idle sandbox costs nothing (its runtime and extensions wait in `next`, frozen unless
            // --no-freeze). The extension's CPU time is read from /proc/PID/stat, which a stopped process answers
            // too; work it defers past its `next` runs at the next thaw, so the window (after the warm-up to after
            // the last invoke) gains the warm-up's tail as it loses its own.
            var sandboxes: [(setup: ExtensionSetup, variant: String?, run: SandboxRun)] = []
            var setups: [(ExtensionSetup, String?, [String: String])] = ExtensionSetup.allCases.map { ($0, nil, [:]) }
            if lifecycleOff { setups.append((.collector, "lifecycle off", ["LANTERN_FORWARD_LIFECYCLE": "false"])) }
            do {
                for (setup, variant, environment) in setups {
                    let run = try await SandboxRun.start(
                        binaries, setup: setup, apmServerURL: setup == .collector ? "http://127.0.0.1:\(apm.port)" : nil,
                        extraEnvironment: environment, settings: settings)
                    sandboxes.append((setup, variant, run))
                }
                var caller = [[Double]](repeating: [], count: sandboxes.count)
                var pids: [pid_t?] = []
                var cpuBefore: [Double?] = []
                let turn = 25
                for (slot, sandbox) in sandboxes.enumerated() {
                    for _ in 0..<warmup { _ = try await sandbox.run.invoke(client) }
                    pids.append(sandbox.setup.fileName.flatMap { sandbox.run.extensionPID($0) })
                    cpuBefore.append(pids[slot].flatMap(cpuMilliseconds))
                }
                var done = 0
                while done < invokes {
                    let count = min(turn, invokes - done)
                    for (slot, sandbox) in sandboxes.enumerated() {
                        for _ in 0..<count { caller[slot].append(try await sandbox.run.invoke(client)) }
                    }
                    done += count
                }
                // Read before the REPORT wait and the stop: only the measured invokes count.
                let cpuAfter = pids.map { $0.flatMap(cpuMilliseconds) }
                var runs: [Run] = []
                let description = await sandboxes.first?.run.sandboxDescription ?? ""
                for (slot, sandbox) in sandboxes.enumerated() {
                    let reports = try await sandbox.run.waitForLines("REPORT", count: warmup + invokes)
                    let post = reports.suffix(invokes).compactMap { field("Post Runtime Duration", in: $0) }
                    guard post.count == invokes else { throw BenchFailure("REPORT lines lack Post Runtime Duration") }
                    await sandbox.run.stop()
                    let shutdown = sandbox.setup.fileName.flatMap { name in
                        sandbox.run.lines("SHUTDOWN \(name) exited").first.flatMap(millisecondsFigure)
                    }
                    var cpu: Double?
                    if let before = cpuBefore[slot], let after = cpuAfter[slot] { cpu = (after - before) / Double(invokes) }
                    runs.append(Run(
                        setup: sandbox.setup, variant: sandbox.variant, callerMs: Percentiles(caller[slot]), postRuntimeMs: Percentiles(post),
                        shutdownMs: shutdown, extensionCPUMsPerInvoke: cpu))
                    sandbox.run.removeFiles()
                }
                return Result(
                    invokes: invokes, collectorBinary: binaries.collector, runs: runs, sandbox: description, settings: settings)
            } catch {
                for sandbox in sandboxes { await sandbox.run.stop() }
                if let failedInit = sandboxes.first(where: { $0.run.initFailed }) {
                    let tail = String(failedInit.run.log.suffix(2000))
                    for sandbox in sandboxes { sandbox.run.removeFiles() }
                    throw SandboxInitFailed(logTail: tail)
                }
                throw error
            }
        }
    }
}

func signed(_ value: Double, _ decimals: Int = 3) -> String { (value >= 0 ? "+" : "") + fixed(value, decimals) }

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

/// User + system CPU time of process `pid` so far (all threads), from /proc/PID/stat, in milliseconds.
func cpuMilliseconds(_ pid: pid_t) -> Double? {
    // utime and stime are fields 14 and 15 of proc(5), 11 and 12 after the command name.
    guard let fields = procStatFields(pid), fields.count > 12,
          let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
}
