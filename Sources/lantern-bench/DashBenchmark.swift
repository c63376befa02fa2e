// `lantern-bench dash`: the dashboard's frame cost (store snapshot + render, in process, no terminal)
// on a store of 1,000,000 invocations, at the newest rows and after jumping to the oldest.

import ArgumentParser
import Dashboard
import Foundation
import LanternStore

/// Dashboard frame-time benchmark.
struct DashBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dash", abstract: "Dashboard frame time (snapshot + render) on a 1,000,000-invocation store.")

    @Option(help: "Invocations in the store.") var invocations = 1_000_000
    @Option(help: "Frames to time (half at the top, half at the bottom).") var frames = 40
    @Option(help: "Directory for the temporary store.") var directory = "/tmp"

    func run() async throws {
        guard invocations > 0, frames > 1 else { throw ValidationError("--invocations and --frames must be positive") }
        let result = try await Self.measure(invocations: invocations, frames: frames, directory: directory)
        for line in result.summary { print(line) }
    }

    struct Result: Sendable, Codable {
        var invocations: Int
        var buildSeconds: Double
        var frameMs: Percentiles
        var totalsMs: Double

        var summary: [String] {
            [
                "dash: \(invocations) invocations (store built in \(fixed(buildSeconds, 1)) s); 120×40 frame = snapshot + render",
                "  frame p50 \(fixed(frameMs.p50)) ms  p95 \(fixed(frameMs.p95)) ms  max \(fixed(frameMs.max)) ms over \(frameMs.count) frames; header totals (off the UI thread) \(fixed(totalsMs)) ms",
            ]
        }
    }

    static func measure(invocations: Int, frames: Int, directory: String) async throws -> Result {
        let path = "\(directory)/lantern-bench-dash-\(getpid()).db"
        func remove() { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        remove()
        defer { remove() }
        let clock = ContinuousClock()
        let buildStart = clock.now
        // The Recorder creates the schema; one transaction then inserts every row from a recursive CTE.
        let recorder = try Recorder(path: path)
        var environment = EnvironmentFact(id: "env-bench")
        environment.functionName = "bench-fn"
        environment.memoryMB = 1024
        environment.source = .emulator
        recorder.record(.environment(environment))
        try await recorder.flush()
        await recorder.close()
        let base: Int64 = 1_764_000_000_000_000
        let connection = try Connection(path: path, mode: .readWrite)
        try connection.execute("BEGIN IMMEDIATE")
        try connection.execute("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(invocations))
            INSERT INTO invocations (request_id, environment_id, invoked_at, timeout_ms, cold_start, status,
                flush_reason, runtime_duration_ms, duration_ms, runtime_done_at, released_at, memory_size_mb,
                max_memory_used_mb)
            SELECT printf('b%07d-0000-4000-8000-000000000000', i), 'env-bench', \(base) + i * 1000, 3000,
                i % 10000 = 1,
                CASE i % 50 WHEN 0 THEN 'error' WHEN 1 THEN 'timeout' WHEN 2 THEN 'failure' ELSE 'success' END,
                CASE i % 20 WHEN 0 THEN 'runtimeDone' WHEN 1 THEN 'timeout' ELSE 'agent' END,
                12.5, 14.0, \(base) + i * 1000 + 500, \(base) + i * 1000 + 700, 1024, 90
            FROM n
            """)
        try connection.execute("COMMIT")
        connection.close()
        let build = (clock.now - buildStart).milliseconds / 1000

        let tail = try StoreTail(path: path)
        var state = UIState()
        let pageSize = ScreenRenderer.pageSize(forHeight: 40)
        var times: [Double] = []
        for index in 0..<frames {
            if index == frames / 2 { _ = state.apply(.bottom, snapshot: nil, pageSize: pageSize) }
            let start = clock.now
            let snapshot = try tail.snapshot(state: &state, pageSize: pageSize)
            _ = ScreenRenderer().render(snapshot, state, width: 120, height: 40, storePath: path)
            times.append((clock.now - start).milliseconds)
        }
        let totalsStart = clock.now
        let totals = try tail.totals()
        let totalsMs = (clock.now - totalsStart).milliseconds
        guard totals.invocations == invocations else { throw BenchFailure("the store has \(totals.invocations) invocations, expected \(invocations)") }
        return Result(invocations: invocations, buildSeconds: build, frameMs: Percentiles(times), totalsMs: totalsMs)
    }
}
