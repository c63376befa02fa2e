// `lantern-bench shutdown`: SHUTDOWN (spindown) to exit with nothing pending. Each run: a sandbox, a few
// invokes (the collector has flushed them all), a pause, SIGTERM to the emulator; the emulator prints how
// long after SHUTDOWN each extension exited. The no-op extension is the floor.

import ArgumentParser
import AsyncHTTPClient

/// Idle SHUTDOWN-to-exit benchmark.
struct ShutdownBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shutdown", abstract: "SHUTDOWN → exit of lantern-extension (and the no-op extension) with nothing pending.")

    @Option(help: "Runs per extension.") var runs = 10
    @Option(help: "A lantern-extension binary to measure instead of the one beside lantern-bench (e.g. the layer's).")
    var collector: String?
    @OptionGroup var sandbox: SandboxOptions
    @OptionGroup var json: JSONOutput

    func run() async throws {
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        let result = try await Self.measure(runs: runs, collector: collector, settings: sandbox.settings)
        for line in result.summary { print(line) }
        try json.write(result)
    }

    struct Result: Sendable, Codable {
        var runs: Int
        var noopMs: Percentiles
        var collectorMs: Percentiles
        /// How the emulator ran the sandboxes (its own words) and the flags that asked for it.
        var sandbox: String = ""
        var settings = SandboxSettings()
        /// Runs whose init failed (a child's launch hung, say) and were made again; not in the figures.
        var failedInits = 0

        var summary: [String] {
            [
                "shutdown: \(runs) runs each, 3 invokes then 300 ms idle, then SIGTERM (SHUTDOWN spindown)",
                "  \(sandbox)" + (failedInits > 0 ? "; \(failedInits) run(s) whose init failed were made again" : ""),
                "  no-op extension     SHUTDOWN→exit p50 \(fixed(noopMs.p50)) ms  max \(fixed(noopMs.max)) ms",
                "  lantern-extension   SHUTDOWN→exit p50 \(fixed(collectorMs.p50)) ms  max \(fixed(collectorMs.max)) ms",
            ]
        }
    }

    static func measure(runs: Int, collector: String? = nil, settings: SandboxSettings = SandboxSettings()) async throws -> Result {
        let binaries = try BenchBinaries.locate(collector: collector)
        return try await withBenchPeers { apm, client in
            var figures: [ExtensionSetup: [Double]] = [:]
            var description = ""
            var failedInits = 0
            for _ in 0..<runs {
                for setup in [ExtensionSetup.noop, .collector] {
                    guard let name = setup.fileName else { continue }
                    // A run whose init fails (with the sandbox user, a launch can hang before its exec) is made again.
                    let (ms, failed) = try await retryingFailedInit {
                        let sandbox = try await SandboxRun.start(
                            binaries, setup: setup, apmServerURL: "http://127.0.0.1:\(apm.port)", settings: settings)
                        defer { sandbox.removeFiles() }
                        if description.isEmpty { description = await sandbox.sandboxDescription }
                        return try await sandbox.use { sandbox in
                            for _ in 0..<3 { _ = try await sandbox.invoke(client) }
                            try await sandbox.waitForLines("REPORT", count: 3)
                            try await Task.sleep(for: .milliseconds(300))
                            await sandbox.stop()
                            guard let ms = sandbox.lines("SHUTDOWN \(name) exited").first.flatMap(millisecondsFigure) else {
                                throw BenchFailure("no SHUTDOWN line for \(name); log tail: \(sandbox.log.suffix(2000))")
                            }
                            return ms
                        }
                    }
                    failedInits += failed
                    figures[setup, default: []].append(ms)
                }
            }
            return Result(
                runs: runs, noopMs: Percentiles(figures[.noop] ?? []), collectorMs: Percentiles(figures[.collector] ?? []),
                sandbox: description, settings: settings, failedInits: failedInits)
        }
    }
}
