// `lantern-bench all`: every scenario in one go (a few minutes), a Markdown table with the issue's
// targets, and the results written to bench/results/<date>.json and .md (and BENCHMARKS.md when run
// from the package root).

import ArgumentParser
import Foundation

/// Runs every benchmark and writes the results.
struct AllBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all", abstract: "Run every benchmark, print a Markdown table, write bench/results/<date>.{json,md}.")

    @Option(help: "Invokes per overhead run.") var invokes = 200
    @Option(help: "Cold starts per extension.") var starts = 20
    @Option(help: "Where the results go.") var output = "bench/results"
    @Flag(help: "Build the real layer with scripts/package-layer.sh (a second release build) for its size.")
    var packageLayer = false
    @Option(help: "Measure this layer zip (from scripts/package-layer.sh) instead of building one: its sizes and its binary's RSS.")
    var layer: String?
    @OptionGroup var sandbox: SandboxOptions

    /// Everything `all` measured, as written to the JSON file.
    struct Report: Sendable, Codable {
        var date: String
        var machine: MachineInfo
        var command: String
        /// The `lantern emulate` flags of every sandbox scenario, and how the emulator said it ran them.
        var sandboxSettings = SandboxSettings()
        var sandbox = ""
        var overhead: OverheadBenchmark.Result
        var coldstart: ColdStartBenchmark.Result
        /// Cold start of the layer's static binary, when there is one (`coldstart` is like for like with the no-op).
        var layerColdstart: ColdStartBenchmark.Result?
        var shutdown: ShutdownBenchmark.Result
        var memory: MemoryBenchmark.Result
        /// The same stages for the layer's static binary, when `--package-layer` built it.
        var layerMemory: MemoryBenchmark.Result?
        var hang: HangBenchmark.Result
        var intakeEventsPerSecond: Double
        var intakeDropped: Int
        var storeRawPerSecond: Double
        var storeRecorderPerSecond: Double
        var dash: DashBenchmark.Result
        var layer: LayerSize
        /// Instructions per invocation (callgrind) of the shipped binary; nil without valgrind.
        var instructions: InstructionsBenchmark.Result?
        var rows: [ResultRow]
    }

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let command = "lantern-bench " + CommandLine.arguments.dropFirst().joined(separator: " ")
        func section(_ lines: [String]) { for line in lines { print(line) } }

        // The layer first: its binary (static stdlib, -Osize) is what ships, so memory is measured on it too.
        let layer = try LayerSize.measure(packageLayer: packageLayer, zip: self.layer)
        section(["layer: built \(layer.builtBytes.map(String.init) ?? "?") B, stripped \(layer.strippedBytes.map(String.init) ?? "?") B, zip \(layer.zipBytes.map(String.init) ?? "n/a") B (\(layer.note))"])
        // Timings on the binary that ships, when there is one (memory is measured on both below).
        let shipped = layer.builtPath
        let settings = sandbox.settings
        let overhead = try await OverheadBenchmark.measure(invokes: invokes, warmup: 10, collector: shipped, settings: settings)
        section(overhead.summary)
        // Like for like with the no-op (both dynamically linked release builds), then the static binary that ships.
        let coldstart = try await ColdStartBenchmark.measure(starts: starts, settings: settings)
        section(coldstart.summary)
        var layerColdstart: ColdStartBenchmark.Result?
        if let shipped {
            layerColdstart = try await ColdStartBenchmark.measure(starts: starts, collector: shipped, settings: settings)
            section(["layer binary:"] + (layerColdstart?.summary ?? []))
        }
        let shutdown = try await ShutdownBenchmark.measure(runs: 10, collector: shipped, settings: settings)
        section(shutdown.summary)
        let memory = try await MemoryBenchmark.measure(
            rate: 100, seconds: 10, floodRequests: 4_000, floodConcurrency: 16, settings: settings)
        section(memory.summary)
        var layerMemory: MemoryBenchmark.Result?
        if let path = layer.builtPath {
            layerMemory = try await MemoryBenchmark.measure(
                rate: 100, seconds: 10, floodRequests: 4_000, floodConcurrency: 16, collector: path, settings: settings)
            section(layerMemory?.summary ?? [])
        }
        // CPU in instructions too: time moves with this VM's neighbours, callgrind's count does not.
        var instructions: InstructionsBenchmark.Result?
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") {
            instructions = try await InstructionsBenchmark.measure(collector: shipped, settings: settings)
            section(instructions?.summary ?? [])
        } else {
            section(["instructions: skipped (no valgrind; apt-get install valgrind)"])
        }
        let hang = try await HangBenchmark.measure(invokes: 20, collector: shipped, settings: settings)
        section(hang.summary)
        let intake = try await IntakeBenchmark.measure(requests: 2_000, eventsPerRequest: 20, concurrency: 8)
        section([intake.summary])
        let store = StoreBench(records: 200_000, directory: "/tmp")
        var raw: [Double] = []
        var recorder: [Double] = []
        for _ in 0..<3 {
            raw.append(try await store.rawInsertLoop())
            recorder.append(try await store.recorderRun().recordsPerSecond)
        }
        let rawMedian = raw.sorted()[1]
        let recorderMedian = recorder.sorted()[1]
        section(["store: raw \(Int(rawMedian)) records/s, Recorder \(Int(recorderMedian)) records/s (medians of 3 × 200,000)"])
        let dash = try await DashBenchmark.measure(invocations: 1_000_000, rounds: 3, directory: "/tmp", store: nil)
        section(dash.summary)

        let rows = Self.rows(overhead: overhead, coldstart: coldstart, layerColdstart: layerColdstart, shutdown: shutdown, memory: memory,
                             layerMemory: layerMemory, hang: hang,
                             intake: intake, raw: rawMedian, recorder: recorderMedian, dash: dash, layer: layer,
                             instructions: instructions)
        let date = Self.timestamp()
        let machine = MachineInfo.current()
        let report = Report(
            date: date, machine: machine, command: command, sandboxSettings: settings, sandbox: overhead.sandbox, overhead: overhead, coldstart: coldstart, layerColdstart: layerColdstart,
            shutdown: shutdown, memory: memory, layerMemory: layerMemory, hang: hang, intakeEventsPerSecond: Double(intake.events) / intake.seconds,
            intakeDropped: intake.droppedEvents, storeRawPerSecond: rawMedian, storeRecorderPerSecond: recorderMedian,
            dash: dash, layer: layer, instructions: instructions, rows: rows)
        let elapsed = (clock.now - started).milliseconds / 1000
        let markdown = Self.markdown(report, elapsed: elapsed)
        print("")
        print(markdown)

        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(report).write(to: URL(fileURLWithPath: "\(output)/\(date).json"))
        try Data(markdown.utf8).write(to: URL(fileURLWithPath: "\(output)/\(date).md"))
        print("wrote \(output)/\(date).json and \(output)/\(date).md")
        if FileManager.default.fileExists(atPath: "Package.swift") {
            try Data(Self.benchmarksFile(markdown).utf8).write(to: URL(fileURLWithPath: "BENCHMARKS.md"))
            print("wrote BENCHMARKS.md")
        }
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HHmm'Z'"
        return formatter.string(from: Date())
    }

    static func rows(
        overhead: OverheadBenchmark.Result, coldstart: ColdStartBenchmark.Result, layerColdstart: ColdStartBenchmark.Result?,
        shutdown: ShutdownBenchmark.Result,
        memory: MemoryBenchmark.Result, layerMemory: MemoryBenchmark.Result?, hang: HangBenchmark.Result, intake: IntakeBenchmark.Result, raw: Double,
        recorder: Double, dash: DashBenchmark.Result, layer: LayerSize, instructions: InstructionsBenchmark.Result?
    ) -> [ResultRow] {
        var rows: [ResultRow] = []
        for run in overhead.runs {
            rows.append(ResultRow(
                scenario: "overhead", metric: "\(run.setup.label): caller latency p50 / p95 / p99",
                value: "\(fixed(run.callerMs.p50)) / \(fixed(run.callerMs.p95)) / \(fixed(run.callerMs.p99)) ms"))
            rows.append(ResultRow(
                scenario: "overhead", metric: "\(run.setup.label): post-runtime p50 / p99",
                value: "\(fixed(run.postRuntimeMs.p50, 3)) / \(fixed(run.postRuntimeMs.p99, 3)) ms"))
            if let cpu = run.extensionCPUMsPerInvoke {
                // Issue 16's target is for lantern-extension; the no-op's figure is the floor of this machine.
                let collector = run.setup == .collector
                rows.append(ResultRow(
                    scenario: "overhead", metric: "\(run.setup.label): extension CPU (user + system) per invoke",
                    value: "\(fixed(cpu, 3)) ms", target: collector ? "≤ 0.5 ms" : nil, met: collector ? cpu <= 0.5 : nil))
            }
        }
        if let instructions {
            rows.append(ResultRow(
                scenario: "overhead", metric: "lantern-extension: instructions per invocation (callgrind, \(instructions.longInvokes) − \(instructions.shortInvokes) invokes)",
                value: "\(Int(instructions.instructionsPerInvoke.rounded()))"))
        }
        if let floor = overhead.run(.noop), let collector = overhead.run(.collector) {
            let p50 = collector.postRuntimeMs.p50 - floor.postRuntimeMs.p50
            let p99 = collector.postRuntimeMs.p99 - floor.postRuntimeMs.p99
            rows.append(ResultRow(scenario: "overhead", metric: "post-runtime p50, lantern-extension − no-op",
                                  value: "\(signed(p50)) ms", target: "≤ +0.3 ms", met: p50 <= 0.3))
            rows.append(ResultRow(scenario: "overhead", metric: "post-runtime p99, lantern-extension − no-op",
                                  value: "\(signed(p99)) ms", target: "≤ +1 ms", met: p99 <= 1))
            rows.append(ResultRow(scenario: "overhead", metric: "caller latency p50 ratio lantern-extension / no-op",
                                  value: "×\(fixed(collector.callerMs.p50 / floor.callerMs.p50))"))
        }
        for f in coldstart.figures {
            rows.append(ResultRow(scenario: "coldstart", metric: "\(f.setup.label): spawn → register / → first next (p50)",
                                  value: "\(fixed(f.registerMs.p50)) / \(fixed(f.readyMs.p50)) ms"))
        }
        if let floor = coldstart.of(.noop), let collector = coldstart.of(.collector) {
            let register = collector.registerMs.p50 - floor.registerMs.p50
            rows.append(ResultRow(scenario: "coldstart", metric: "register p50, lantern-extension − no-op",
                                  value: "\(signed(register, 2)) ms", target: "≤ +5 ms", met: register <= 5))
            rows.append(ResultRow(scenario: "coldstart", metric: "first next p50, lantern-extension − no-op",
                                  value: "\(signed(collector.readyMs.p50 - floor.readyMs.p50, 2)) ms"))
        }
        if let shipped = layerColdstart?.of(.collector) {
            rows.append(ResultRow(
                scenario: "coldstart", metric: "layer binary (static stdlib): spawn → register / → first next (p50)",
                value: "\(fixed(shipped.registerMs.p50)) / \(fixed(shipped.readyMs.p50)) ms"))
        }
        rows.append(ResultRow(scenario: "shutdown", metric: "no-op extension: SHUTDOWN → exit p50 / max",
                              value: "\(fixed(shutdown.noopMs.p50)) / \(fixed(shutdown.noopMs.max)) ms"))
        rows.append(ResultRow(scenario: "shutdown", metric: "lantern-extension: SHUTDOWN → exit p50 / max (idle)",
                              value: "\(fixed(shutdown.collectorMs.p50)) / \(fixed(shutdown.collectorMs.max)) ms",
                              target: "≤ 100 ms", met: shutdown.collectorMs.max <= 100))
        // The RSS target is for what ships: the layer's binary when it was built in this run.
        for (result, label, shipped) in [(memory, "release build, dynamic stdlib", layerMemory == nil),
                                         (layerMemory, "layer binary, static stdlib", true)] {
            guard let result else { continue }
            rows.append(ResultRow(scenario: "memory", metric: "\(label): peak RSS idle after init",
                                  value: "\(fixed(Double(result.idleKB) / 1024)) MB"))
            rows.append(ResultRow(
                scenario: "memory", metric: "\(label): peak RSS at \(fixed(result.achievedRate, 0)) invokes/s with agent data",
                value: "\(fixed(Double(result.loadKB) / 1024)) MB", target: shipped ? "≤ 10 MB" : nil,
                met: shipped ? Double(result.loadKB) / 1024 <= 10 && result.achievedRate >= 95 : nil))
            rows.append(ResultRow(
                scenario: "memory",
                metric: "\(label): peak RSS under an agent flood (\(result.floodRequests) requests × 20 spans, 16 agents)",
                value: "\(fixed(Double(result.floodKB) / 1024)) MB"))
        }
        rows.append(ResultRow(scenario: "hang", metric: "post-runtime per invoke after the first, APM Server hanging: p50 / max",
                              value: "\(fixed(hang.laterPostRuntimeMs.p50)) / \(fixed(hang.laterPostRuntimeMs.max)) ms (first \(fixed(hang.firstPostRuntimeMs)) ms)",
                              target: "≤ 50 ms", met: hang.laterPostRuntimeMs.max <= 50))
        let intakeRate = Double(intake.events) / intake.seconds
        rows.append(ResultRow(scenario: "intake", metric: "events/s, receiver → forwarder → APM Server (8 agents)",
                              value: "\(Int(intakeRate)) (dropped \(intake.droppedEvents))", target: "≥ 50,000",
                              met: intakeRate >= 50_000))
        rows.append(ResultRow(scenario: "store", metric: "Recorder / raw prepared inserts",
                              value: "\(Int(recorder)) / \(Int(raw)) rec/s = \(fixed(recorder / raw * 100, 1))%",
                              target: "≥ 50%", met: recorder / raw >= 0.5))
        rows.append(ResultRow(scenario: "dash", metric: "frame (snapshot + render) at 1,000,000 invocations, scripted session, p50 / p95 / p99 / max",
                              value: "\(fixed(dash.frameMs.p50)) / \(fixed(dash.frameMs.p95)) / \(fixed(dash.frameMs.p99)) / \(fixed(dash.frameMs.max)) ms",
                              target: "< 16 ms", met: dash.frameMs.max < 16))
        rows.append(ResultRow(scenario: "layer", metric: "lantern-extension binary: built / stripped / zip",
                              value: "\(mb(layer.builtBytes)) / \(mb(layer.strippedBytes)) / \(mb(layer.zipBytes))"
                                  + (layer.zipBytes.map { " (zip \($0) B)" } ?? ""),
                              target: layer.zipBytes == nil ? nil : "zip ≤ 5 MB",
                              met: layer.zipBytes.map { $0 <= 5_000_000 }))
        return rows
    }

    static func mb(_ bytes: Int?) -> String {
        guard let bytes else { return "n/a" }
        return fixed(Double(bytes) / 1_048_576) + " MiB"
    }

    static func markdown(_ report: Report, elapsed: Double) -> String {
        var lines = [
            "## Benchmarks (\(report.date))",
            "",
            "Machine: \(report.machine.cores) cores, \(report.machine.cpuModel), Linux \(report.machine.kernel), \(report.machine.swiftVersion). Release build. `\(report.command)` took \(fixed(elapsed, 0)) s. Emulator: \(report.sandbox).",
            "",
            "| Scenario | Metric | Value | Target | Met |",
            "|---|---|---|---|---|",
        ]
        for row in report.rows {
            let met = row.met.map { $0 ? "yes" : "**no**" } ?? ""
            lines.append("| \(row.scenario) | \(row.metric) | \(row.value) | \(row.target ?? "") | \(met) |")
        }
        lines.append("")
        lines.append("Layer figures: \(report.layer.note).")
        lines.append("lantern-extension in overhead, shutdown and hang: \(report.overhead.collectorBinary); coldstart rows name their binary.")
        return lines.joined(separator: "\n") + "\n"
    }

    static func benchmarksFile(_ table: String) -> String {
        """
        # Lantern benchmarks

        The latest `lantern-bench all` run. The floor of every overhead figure is the no-op extension
        (`lantern-noop-extension`: registers, loops on `next`) in the same sandbox setup, run by the same process.
        Post-runtime time is the emulator's `Post Runtime Duration` (runtime response → environment release);
        cold start and SHUTDOWN → exit are the emulator's `EXTENSION … ms after launch` and `SHUTDOWN … exited`
        lines. Benchmarks are not tests: nothing here asserts timings in `swift test`.

        Reproduce (every product must be built, since the benchmarks start `lantern`, `lantern-extension` and
        `lantern-noop-extension` from the same folder as `lantern-bench`):

            swift build -c release
            scripts/package-layer.sh                          # the layer zip, in dist/
            swift run -c release lantern-bench all --layer dist/lantern-extension-x86_64.zip

        Each scenario also runs alone: `lantern-bench overhead|coldstart|shutdown|memory|hang|intake|store|dash`.
        The sandbox scenarios run `lantern emulate` with its defaults (the runtime and extensions frozen between
        invocations, as uid 993 when run as root); `--no-freeze` and `--keep-root` pass its flags on.
        Results of every run: `bench/results/<date>.json` and `.md`.

        \(table)
        """
    }
}
