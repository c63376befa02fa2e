import ArgumentParser

/// `lantern-bench store`: Recorder throughput vs a raw prepared-insert loop, and the caller's cost per `record()`.
struct StoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Recorder records/s vs a raw C-API prepared-insert loop in one transaction, and ns per record() call.")

    @Option(help: "Invocation records per run.") var records = 200_000
    @Option(help: "Runs of each (interleaved); medians are reported.") var runs = 3
    @Option(help: "Directory for the temporary stores.") var directory = "/tmp"

    func run() async throws {
        guard records > 0, runs > 0 else { throw ValidationError("--records and --runs must be positive") }
        let bench = StoreBench(records: records, directory: directory)
        print("store benchmark: \(records) invocation-shaped records per run, \(runs) interleaved runs")
        var raw: [Double] = []
        var recorder: [StoreBench.RecorderRun] = []
        for run in 1...runs {
            let rawRate = try await bench.rawInsertLoop()
            let recorderRun = try await bench.recorderRun()
            raw.append(rawRate)
            recorder.append(recorderRun)
            print("  run \(run): raw \(Int(rawRate)) rec/s   recorder \(Int(recorderRun.recordsPerSecond)) rec/s "
                + "(\(recorderRun.batches) batches)   record() p50 \(Int(recorderRun.p50CallNanos)) ns, "
                + "mean \(Int(recorderRun.meanCallNanos)) ns, p99 \(Int(recorderRun.p99CallNanos)) ns")
        }
        let rawMedian = median(raw)
        let recorderMedian = median(recorder.map(\.recordsPerSecond))
        print("raw prepared-insert loop (1 transaction): \(Int(rawMedian)) records/s (median)")
        print("Recorder (record() + flush()):            \(Int(recorderMedian)) records/s (median)")
        print("ratio Recorder / raw:                     \(String(format2(recorderMedian / rawMedian * 100)))%")
        print("caller cost per record():                 p50 \(Int(median(recorder.map(\.p50CallNanos)))) ns, "
            + "mean \(Int(median(recorder.map(\.meanCallNanos)))) ns, p99 \(Int(median(recorder.map(\.p99CallNanos)))) ns (medians over runs)")
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    private func format2(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
