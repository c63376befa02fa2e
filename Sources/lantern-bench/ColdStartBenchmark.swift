// `lantern-bench coldstart`: from the emulator spawning the extension to its `register` and to its first
// `next` (the emulator's EXTENSION lines), the no-op extension and lantern-extension alternating, many
// starts each; and, from the same starts, SHUTDOWN to exit with nothing pending (the SHUTDOWN lines).

import ArgumentParser

/// Cold start and idle shutdown benchmark.
struct ColdStartBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coldstart",
        abstract: "Extension spawn → register and → first next (median of many starts), and SHUTDOWN → exit when idle.")

    @Option(help: "Starts of each extension.") var starts = 20
    @Option(help: "A lantern-extension binary to measure instead of the one beside lantern-bench (e.g. the layer's).")
    var collector: String?
    @OptionGroup var sandbox: SandboxOptions
    @OptionGroup var json: JSONOutput

    func run() async throws {
        guard starts > 0 else { throw ValidationError("--starts must be positive") }
        let result = try await Self.measure(starts: starts, collector: collector, settings: sandbox.settings)
        for line in result.summary { print(line) }
        try json.write(result)
    }

    /// One extension's figures over all starts.
    struct Figures: Sendable, Codable {
        var setup: ExtensionSetup
        var registerMs: Percentiles
        var readyMs: Percentiles
        var shutdownMs: Percentiles
    }

    struct Result: Sendable, Codable {
        var starts: Int
        var figures: [Figures]
        /// How the emulator ran the sandboxes (its own words) and the flags that asked for it.
        var sandbox: String = ""
        var settings = SandboxSettings()
        /// Starts whose init failed (a child's launch hung, say) and were made again; not in the figures.
        var failedInits = 0

        func of(_ setup: ExtensionSetup) -> Figures? { figures.first { $0.setup == setup } }

        var summary: [String] {
            var lines = [
                "coldstart: \(starts) starts each (spawn by the emulator → register / → first next; SHUTDOWN → exit, idle)",
                "  \(sandbox)" + (failedInits > 0 ? "; \(failedInits) start(s) whose init failed were made again" : ""),
            ]
            for f in figures {
                lines.append("  \(f.setup.label.padding(18)) register p50 \(fixed(f.registerMs.p50)) ms (max \(fixed(f.registerMs.max)))   first next p50 \(fixed(f.readyMs.p50)) ms (max \(fixed(f.readyMs.max)))   SHUTDOWN→exit p50 \(fixed(f.shutdownMs.p50)) ms (max \(fixed(f.shutdownMs.max)))")
            }
            if let floor = of(.noop), let collector = of(.collector) {
                lines.append("  lantern-extension vs no-op: register \(signed(collector.registerMs.p50 - floor.registerMs.p50, 2)) ms, first next \(signed(collector.readyMs.p50 - floor.readyMs.p50, 2)) ms (medians)")
            }
            return lines
        }
    }

    static func measure(starts: Int, collector: String? = nil, settings: SandboxSettings = SandboxSettings()) async throws -> Result {
        let binaries = try BenchBinaries.locate(collector: collector)
        let setups: [ExtensionSetup] = [.noop, .collector]
        return try await withBenchPeers { apm, _ in
            var register: [ExtensionSetup: [Double]] = [:]
            var ready: [ExtensionSetup: [Double]] = [:]
            var shutdown: [ExtensionSetup: [Double]] = [:]
            var description = ""
            var failedInits = 0
            for _ in 0..<starts {
                for setup in setups {
                    guard let name = setup.fileName else { continue }
                    // A start whose init fails (with the sandbox user, a launch can hang before its exec) is made again.
                    let ((registered, readyMs, exited), failed) = try await retryingFailedInit {
                        let sandbox = try await SandboxRun.start(
                            binaries, setup: setup, apmServerURL: "http://127.0.0.1:\(apm.port)", settings: settings)
                        defer { sandbox.removeFiles() }
                        if description.isEmpty { description = await sandbox.sandboxDescription }
                        return try await sandbox.use { sandbox in
                            let readyLine = try await sandbox.waitForLines("EXTENSION \(name) ready", count: 1)
                            // Init is over once the runtime has called `next` too; let it settle before spindown.
                            try await Task.sleep(for: .milliseconds(100))
                            await sandbox.stop()
                            let registered = sandbox.lines("EXTENSION \(name) registered").first.flatMap(millisecondsFigure)
                            let exited = sandbox.lines("SHUTDOWN \(name) exited").first.flatMap(millisecondsFigure)
                            guard let registered, let readyMs = readyLine.first.flatMap(millisecondsFigure), let exited else {
                                throw BenchFailure("missing EXTENSION/SHUTDOWN lines; log tail: \(sandbox.log.suffix(2000))")
                            }
                            return (registered, readyMs, exited)
                        }
                    }
                    failedInits += failed
                    register[setup, default: []].append(registered)
                    ready[setup, default: []].append(readyMs)
                    shutdown[setup, default: []].append(exited)
                }
            }
            return Result(starts: starts, figures: setups.map {
                Figures(setup: $0, registerMs: Percentiles(register[$0] ?? []), readyMs: Percentiles(ready[$0] ?? []),
                        shutdownMs: Percentiles(shutdown[$0] ?? []))
            }, sandbox: description, settings: settings, failedInits: failedInits)
        }
    }
}
