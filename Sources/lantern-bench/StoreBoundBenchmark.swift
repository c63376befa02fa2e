import ArgumentParser
import Foundation
import LanternStore

/// `lantern-bench store-bound`: the store's size bound over a long-lived environment. Writes invocations shaped as
/// the collector records them (the invocation, a flush, two log lines, a proxy every tenth) through the Recorder with
/// the collector's options, once unbounded (the baseline) and once bounded, and reports the file size (store + WAL)
/// as it goes, the prunes, and what the bound costs the writer thread. Pruning runs on that thread only; the
/// invocation path never waits for the store (`record()` does not block).
struct StoreBoundBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-bound",
        abstract: "Store size under the size bound over many invocations, and the writer's cost of pruning vs unbounded.")

    @Option(help: "Invocations in the bounded run.") var invocations = 1_000_000
    @Option(help: "Invocations in the unbounded baseline run (its file grows with them).") var baseline = 200_000
    @Option(help: "The bound in MB (default: what the collector picks in Lambda's default 512 MB /tmp).")
    var boundMB: Double = 25.6
    @Option(help: "Directory for the temporary stores.") var directory = "/tmp"

    struct Run {
        var seconds: Double
        var invocations: Int
        var largestBytes: Int
        var finalBytes: Int
        var statistics: RecorderStatistics
        var perSecond: Double { Double(invocations) / seconds }
    }

    func run() async throws {
        let bound = Int(boundMB * 1_048_576)
        print("store-bound: \(invocations) invocations with a \(boundMB) MB bound; baseline \(baseline) unbounded")
        let unbounded = try await write(count: baseline, bound: nil)
        print(String(format: "  unbounded: %.0f invocations/s, file + WAL %.1f MB after %d invocations",
                     unbounded.perSecond, Double(unbounded.finalBytes) / 1_048_576, baseline))
        let bounded = try await write(count: invocations, bound: bound)
        print(String(format: "  bounded:   %.0f invocations/s, largest file + WAL %.1f MB, at the end %.1f MB; %d prunes removed %d invocations; %d records dropped",
                     bounded.perSecond, Double(bounded.largestBytes) / 1_048_576, Double(bounded.finalBytes) / 1_048_576,
                     bounded.statistics.prunes, bounded.statistics.prunedInvocations, bounded.statistics.dropped))
        print(String(format: "  writer throughput bounded / unbounded: %.0f%%", bounded.perSecond / unbounded.perSecond * 100))
    }

    private func write(count: Int, bound: Int?) async throws -> Run {
        let path = "\(directory)/lantern-bench-bound-\(getpid())-\(bound == nil ? "free" : "bounded").db"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        var options = Recorder.Options()
        options.logsToStandardError = false
        options.commitDelayMs = 20
        options.pageCacheKB = 256
        options.sizeBoundBytes = bound
        let recorder = try Recorder(path: path, options: options)
        let start: Int64 = 1_800_000_000_000_000
        var largest = 0
        let began = ContinuousClock.now
        for index in 0..<count {
            let at = start + Int64(index) * 100_000
            let id = "req-\(index)"
            var fact = InvocationFact(requestID: id)
            fact.environmentID = "env-bench"
            fact.invokedAt = at
            fact.status = index % 10 == 0 ? .timeout : .success
            fact.agentFlushedAt = at + 30_000
            fact.releasedAt = at + 31_000
            recorder.record(.invocation(fact))
            recorder.record(.flush(FlushRecord(
                environmentID: "env-bench", requestID: id, startedAt: at + 30_500, trigger: .invocation, events: 5,
                bytes: 2_000, httpStatus: 202, outcome: .sent, durationMs: 0.4)))
            recorder.record(.log(LogRecord(environmentID: "env-bench", requestID: id, at: at + 1_000, source: .function,
                                           level: "INFO", message: "handling \(id) with a line of ordinary length")))
            recorder.record(.log(LogRecord(environmentID: "env-bench", requestID: id, at: at + 2_000, source: .function,
                                           message: "done \(id)")))
            if index % 10 == 0 {
                recorder.record(.proxy(ProxyTransactionRecord(
                    requestID: id, environmentID: "env-bench", transactionID: "tx-\(index)", result: "timeout",
                    outcome: "failure", durationMs: 3_000, trigger: .runtimeDone, createdAt: at + 3_000_000)))
            }
            // Paced as invocations are: the queue never overflows, the writer commits small batches.
            if index % 100 == 99 {
                try await recorder.flush()
                if index % 10_000 == 9_999 { largest = max(largest, Self.bytes(path)) }
            }
        }
        try await recorder.flush()
        let seconds = (ContinuousClock.now - began) / .seconds(1)
        await recorder.close()
        return Run(seconds: seconds, invocations: count, largestBytes: max(largest, Self.bytes(path)),
                   finalBytes: Self.bytes(path), statistics: recorder.statistics)
    }

    static func bytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: path + $1)[.size] as? Int) ?? 0) }
    }
}
