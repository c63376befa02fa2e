// `lantern-bench instructions`: the extension's CPU per invocation as a count of instructions, which this
// VM cannot give from hardware counters (perf reports them as not supported) and whose CPU time drifts by
// a factor of two from run to run. The binary runs under callgrind in the overhead scenario twice, with
// a short and a long run; the difference of the two totals over the difference of invokes is the cost of
// one invocation, with start-up, the warm-up and shutdown cancelled out. A plain overhead run beside it
// gives the CPU time per invocation on the same binary.

import ArgumentParser
import Foundation

struct InstructionsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instructions",
        abstract: "Extension instructions per invocation (callgrind, long run minus short run) and CPU time per invocation.")

    @Option(help: "A lantern-extension binary to measure instead of the one beside lantern-bench.") var collector: String?
    @Option(help: "Measure the binary of this layer zip (scripts/package-layer.sh).") var layer: String?
    @Option(help: "Invokes of the short run.") var short = 50
    @Option(help: "Invokes of the long run.") var long = 250
    @Option(help: "Warm-up invokes of each run.") var warmup = 10
    @OptionGroup var sandbox: SandboxOptions
    @OptionGroup var json: JSONOutput

    struct Result: Sendable, Codable {
        var binary: String
        var shortInvokes: Int
        var longInvokes: Int
        var shortInstructions: Int
        var longInstructions: Int
        var instructionsPerInvoke: Double
        /// CPU time (user + system) per invoke of a plain overhead run of `longInvokes` on the same binary.
        var cpuMsPerInvoke: Double?

        var summary: [String] {
            [
                "instructions: \(binary)",
                "  callgrind totals \(shortInstructions) (\(shortInvokes) invokes) and \(longInstructions) (\(longInvokes) invokes)",
                "  extension instructions per invocation \(Int(instructionsPerInvoke.rounded()))"
                    + (cpuMsPerInvoke.map { ", CPU (user + system) \(fixed($0, 3)) ms per invocation" } ?? ""),
            ]
        }
    }

    func run() async throws {
        guard short > 0, long > short else { throw ValidationError("--long must be more than --short, both positive") }
        var binary = collector
        if let layer { binary = try LayerSize.unpacked(layer).builtPath }
        let result = try await Self.measure(
            collector: binary, short: short, long: long, warmup: warmup, settings: sandbox.settings)
        for line in result.summary { print(line) }
        try json.write(result)
    }

    static func measure(
        collector: String?, short: Int = 50, long: Int = 250, warmup: Int = 10, settings: SandboxSettings = SandboxSettings()
    ) async throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") else {
            throw BenchFailure("valgrind is needed (apt-get install valgrind)")
        }
        let binary = try BenchBinaries.locate(collector: collector).collector
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-instructions-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // The sandbox runs the extension as uid 993 when started as root: it must be able to write its profile.
        chmod(work, 0o1777)
        // valgrind 3.19 cannot read the DWARF Swift 6 writes; instruction counts need no symbols at all.
        let stripped = work + "/lantern-extension"
        _ = try runTool("/usr/bin/strip", ["--strip-debug", "-o", stripped, binary])
        let wrapper = work + "/callgrind-extension"
        try """
            #!/bin/sh
            exec valgrind --tool=callgrind --callgrind-out-file=\(work)/callgrind.%p \(stripped) "$@"

            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)

        func totalInstructions(invokes: Int) async throws -> Int {
            for file in try FileManager.default.contentsOfDirectory(atPath: work) where file.hasPrefix("callgrind.") {
                try FileManager.default.removeItem(atPath: work + "/" + file)
            }
            _ = try await OverheadBenchmark.measure(invokes: invokes, warmup: warmup, collector: wrapper, settings: settings)
            var total = 0
            var profiles = 0
            for file in try FileManager.default.contentsOfDirectory(atPath: work) where file.hasPrefix("callgrind.") {
                let text = try String(contentsOfFile: work + "/" + file, encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("totals:") || line.hasPrefix("summary:") {
                    total += Int(line.split(separator: " ").last ?? "") ?? 0
                    profiles += 1
                    break
                }
            }
            guard profiles > 0 else { throw BenchFailure("callgrind wrote no profile in \(work) (did the extension exit cleanly?)") }
            return total
        }

        let shortTotal = try await totalInstructions(invokes: short)
        let longTotal = try await totalInstructions(invokes: long)
        let plain = try await OverheadBenchmark.measure(invokes: long, warmup: warmup, collector: binary, settings: settings)
        return Result(
            binary: binary, shortInvokes: short, longInvokes: long, shortInstructions: shortTotal, longInstructions: longTotal,
            instructionsPerInvoke: Double(longTotal - shortTotal) / Double(long - short),
            cpuMsPerInvoke: plain.run(.collector)?.extensionCPUMsPerInvoke)
    }
}
