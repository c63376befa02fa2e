import ArgumentParser

/// `lantern-bench`: Lantern's benchmarks, one scenario per subcommand (run with `swift run -c release`).
@main
struct LanternBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lantern-bench",
        abstract: "Lantern benchmarks. Build in release: swift run -c release lantern-bench <scenario>.",
        subcommands: [
            AllBenchmark.self, OverheadBenchmark.self, ColdStartBenchmark.self, ShutdownBenchmark.self,
            MemoryBenchmark.self, HangBenchmark.self, IntakeBenchmark.self, StoreBenchmark.self, StoreBoundBenchmark.self,
            DashBenchmark.self, ManagedInstancesBenchmark.self, InstructionsBenchmark.self,
        ]
    )
}
