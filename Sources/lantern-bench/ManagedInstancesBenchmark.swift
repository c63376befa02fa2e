// `lantern-bench lmi`: the collector on Lambda Managed Instances against itself on classic Lambda, in one run.
// The same sample function (with the agent imitation) and the same counting APM Server; classic invokes one at a
// time (frozen between them, as Lambda does), Managed Instances keep `--concurrency` invokes in flight in one
// environment (`lantern emulate --max-concurrency N`). Per mode: the delivery latency from the agent's flush to
// the APM Server's answer (from the collector's own store: the first sent batch that started after the flush),
// the collector's CPU per invocation, its peak RSS, and its store and batch counts.

import ArgumentParser
import AsyncHTTPClient
import Foundation
import LanternStore

/// Managed Instances vs classic benchmark.
struct ManagedInstancesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lmi",
        abstract: "lantern-extension on Managed Instances (N invocations at once) vs classic Lambda: delivery latency, CPU per invocation, peak RSS.")

    @Option(help: "Invocations on Managed Instances.") var invocations = 10_000
    @Option(help: "Invocations on classic Lambda (one at a time).") var classicInvocations = 2_000
    @Option(help: "Invocations in flight at once on Managed Instances (= --max-concurrency).") var concurrency = 4
    @Option(help: "How long each invocation's handler sleeps, ms.") var sleepMs = 10
    @Option(help: "Measure this lantern-extension binary (e.g. the layer's) instead of the release build's.")
    var collector: String?
    @OptionGroup var json: JSONOutput

    /// One mode's figures.
    struct ModeResult: Sendable, Codable {
        var mode: String
        var invocations: Int
        var seconds: Double
        /// Agent flush → the APM Server's answer to the batch that carried it, ms.
        var delivery: Percentiles
        var cpuMsPerInvocation: Double?
        var peakRSSKB: Int?
        var inFlight: Percentiles
        var batchesSent: Int
        var eventsSent: Int
        var storedInvocations: Int

        var lines: [String] {
            [
                "  \(mode): \(invocations) invocations in \(fixed(seconds, 1)) s, \(storedInvocations) stored, "
                    + "in flight p50/p99/max \(fixed(inFlight.p50, 0))/\(fixed(inFlight.p99, 0))/\(fixed(inFlight.max, 0))",
                "    delivery agent flush → APM Server p50 / p95 / p99 / max: \(fixed(delivery.p50)) / \(fixed(delivery.p95)) / "
                    + "\(fixed(delivery.p99)) / \(fixed(delivery.max)) ms (\(delivery.count) invocations)",
                "    collector CPU \(cpuMsPerInvocation.map { fixed($0, 3) } ?? "n/a") ms/invocation, peak RSS "
                    + "\(peakRSSKB.map { fixed(Double($0) / 1024) } ?? "n/a") MB, \(batchesSent) batches / \(eventsSent) events sent",
            ]
        }
    }

    struct Result: Sendable, Codable {
        var binary: String
        var concurrency: Int
        var sleepMs: Int
        var classic: ModeResult
        var managedInstances: ModeResult
    }

    func run() async throws {
        guard invocations > 0, classicInvocations > 0, concurrency > 0, sleepMs >= 0 else {
            throw ValidationError("counts must be positive")
        }
        let binaries = try BenchBinaries.locate(collector: collector)
        let body = #"{"kind":"success","sleepMs":\#(sleepMs)}"#
        let classic = try await Self.measure(
            binaries, mode: "classic", invocations: classicInvocations, lanes: 1, emulateArguments: [], body: body)
        let managed = try await Self.measure(
            binaries, mode: "managed instances ×\(concurrency)", invocations: invocations, lanes: concurrency,
            emulateArguments: ["--max-concurrency", String(concurrency)], body: body)
        let result = Result(binary: binaries.collector, concurrency: concurrency, sleepMs: sleepMs, classic: classic,
                            managedInstances: managed)
        print("lmi: lantern-extension (\(binaries.collector)), handler sleeps \(sleepMs) ms, agent imitation on")
        for line in classic.lines + managed.lines { print(line) }
        if let a = managed.cpuMsPerInvocation, let b = classic.cpuMsPerInvocation {
            print("  managed instances vs classic: CPU/invocation \(signed(a - b)) ms, delivery p50 \(signed(managed.delivery.p50 - classic.delivery.p50, 2)) ms")
        }
        try json.write(result)
    }

    static func measure(
        _ binaries: BenchBinaries, mode: String, invocations: Int, lanes: Int, emulateArguments: [String], body: String
    ) async throws -> ModeResult {
        try await withBenchPeers { apm, client in
            let sandbox = try await SandboxRun.start(
                binaries, setup: .collector, apmServerURL: "http://127.0.0.1:\(apm.port)", emulateArguments: emulateArguments)
            return try await sandbox.use { sandbox in
                // Warm up, then measure from a clean CPU count and peak.
                for _ in 0..<lanes * 5 { _ = try await sandbox.invoke(client, body: body) }
                guard let pid = sandbox.extensionPID("lantern-extension") else {
                    throw BenchFailure("no lantern-extension process; emulator log: \(sandbox.log.suffix(1500))")
                }
                let cpuBefore = cpuMilliseconds(pid)
                try? MemoryBenchmark.resetPeak(pid)
                let started = ContinuousClock.now
                let url = sandbox.invokeURL
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for lane in 0..<lanes {
                        let share = invocations / lanes + (lane < invocations % lanes ? 1 : 0)
                        group.addTask {
                            for _ in 0..<share { try await Self.invokeWhenFree(url, client, body: body) }
                        }
                    }
                    try await group.waitForAll()
                }
                let seconds = (ContinuousClock.now - started).milliseconds / 1000
                let cpuAfter = cpuMilliseconds(pid)
                let peak = try? MemoryBenchmark.peakKB(pid)
                await sandbox.stop()
                defer { sandbox.removeFiles() }
                let figures = try storeFigures(sandbox.workDir + "/lantern.db")
                var cpu: Double?
                if let cpuBefore, let cpuAfter { cpu = (cpuAfter - cpuBefore) / Double(invocations) }
                return ModeResult(
                    mode: mode, invocations: invocations, seconds: seconds, delivery: figures.delivery,
                    cpuMsPerInvocation: cpu, peakRSSKB: peak, inFlight: figures.inFlight, batchesSent: figures.batches,
                    eventsSent: figures.events, storedInvocations: figures.invocations)
            }
        }
    }

    /// An invoke that waits out a busy environment (429 from the emulator's full queue).
    static func invokeWhenFree(_ url: String, _ client: HTTPClient, body: String) async throws {
        for _ in 0..<1_000 {
            do {
                _ = try await SandboxRun.invoke(url, client, body: body)
                return
            } catch let failure as BenchFailure where "\(failure)".contains("answered 429") {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        throw BenchFailure("the environment stayed busy")
    }

    /// Delivery latency, concurrency and send counts, from the collector's store.
    static func storeFigures(_ path: String) throws -> (delivery: Percentiles, inFlight: Percentiles, batches: Int, events: Int, invocations: Int) {
        let history = try History(path: path)
        let delivery = try history.query(sql: """
            SELECT (SELECT f.started_at + f.duration_ms * 1000 FROM flushes f
                    WHERE f.outcome = 'sent' AND f.started_at >= i.agent_flushed_at ORDER BY f.started_at LIMIT 1)
                   - i.agent_flushed_at
            FROM invocations i WHERE i.agent_flushed_at IS NOT NULL
            """).rows.compactMap { $0.first?.double }.map { $0 / 1000 }
        let inFlight = try history.query(sql: "SELECT in_flight FROM invocations WHERE in_flight IS NOT NULL")
            .rows.compactMap { $0.first?.double }
        let sent = try history.query(sql: "SELECT count(*), coalesce(sum(events), 0) FROM flushes WHERE outcome = 'sent'").rows.first
        let count = try history.count(.invocations)
        return (Percentiles(delivery), Percentiles(inFlight), Int(sent?[0].int64 ?? 0), Int(sent?[1].int64 ?? 0), count)
    }
}
