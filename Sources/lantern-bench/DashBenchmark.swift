// `lantern-bench dash`: the dashboard's frame cost (store snapshot + render, in process, no terminal) on a store
// of 1,000,000 invocations, over a scripted session of the frames a user sees: following while the collector
// commits new invocations, scrolling (j/k, pages, G, g) while rows keep arriving, switching tabs, filtering,
// and opening an invocation.

import ArgumentParser
import Dashboard
import Foundation
import LanternStore

/// Dashboard frame-time benchmark.
struct DashBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dash",
        abstract: "Dashboard frame time (snapshot + render) on a 1,000,000-invocation store, over a scripted session.")

    @Option(help: "Invocations in the store.") var invocations = 1_000_000
    @Option(help: "Rounds of the scripted session (about 250 frames each).") var rounds = 3
    @Option(help: "Directory for the temporary store.") var directory = "/tmp"
    @Option(help: "Use (and keep) the store at this path, creating it when missing: lets a profiler run the frames alone.")
    var store: String?

    func run() async throws {
        guard invocations > 0, rounds > 0 else { throw ValidationError("--invocations and --rounds must be positive") }
        let result = try await Self.measure(invocations: invocations, rounds: rounds, directory: directory, store: store)
        for line in result.summary { print(line) }
    }

    /// Frame times of one part of the session.
    struct Phase: Sendable, Codable {
        var name: String
        var frameMs: Percentiles
        /// CPU time of the same frames (this thread only): far below the wall time means the frame waited for a core.
        var cpuMs: Percentiles
    }

    struct Result: Sendable, Codable {
        var invocations: Int
        var buildSeconds: Double
        var frameMs: Percentiles
        var cpuMs: Percentiles
        var phases: [Phase]
        var totalsMs: Double

        var summary: [String] {
            var lines = [
                "dash: \(invocations) invocations (store built in \(fixed(buildSeconds, 1)) s); 120×40 frame = "
                    + "change check + snapshot + render, \(frameMs.count) frames of a scripted session",
                "  phase      frames   p50 ms   p95 ms   p99 ms   max ms   max CPU ms",
            ]
            func row(_ name: String, _ wall: Percentiles, _ cpu: Percentiles) -> String {
                func cell(_ text: String, _ width: Int) -> String {
                    String(repeating: " ", count: Swift.max(0, width - text.count)) + text
                }
                return "  " + name.padding(toLength: 9, withPad: " ", startingAt: 0) + cell(String(wall.count), 7)
                    + cell(fixed(wall.p50), 9) + cell(fixed(wall.p95), 9) + cell(fixed(wall.p99), 9)
                    + cell(fixed(wall.max), 9) + cell(fixed(cpu.max), 13)
            }
            for phase in phases { lines.append(row(phase.name, phase.frameMs, phase.cpuMs)) }
            lines.append(row("all", frameMs, cpuMs))
            lines.append("  header totals (off the UI thread, after the session) \(fixed(totalsMs)) ms")
            return lines
        }
    }

    /// One frame of the script: an optional key, and whether the collector commits new rows before the frame.
    struct Step {
        var action: Action?
        var arrival = false
    }

    /// The scripted session, in parts. Rows arrive while following and, every few keys, while scrolling.
    static func script() -> [(name: String, steps: [Step])] {
        func keys(_ action: Action, _ times: Int, arrivalEvery: Int = 0) -> [Step] {
            (0..<times).map { Step(action: action, arrival: arrivalEvery > 0 && $0 % arrivalEvery == 0) }
        }
        let follow = (0..<60).map { _ in Step(action: nil, arrival: true) }
        var scroll = keys(.move(1), 40, arrivalEvery: 4)  // past the window's bottom row: keyset hops
        scroll += keys(.page(1), 20, arrivalEvery: 4)
        scroll += keys(.move(-1), 10) + keys(.page(-1), 10)
        scroll += keys(.bottom, 1) + keys(.move(-1), 40, arrivalEvery: 4) + keys(.page(-1), 5)
        scroll += keys(.top, 1) + keys(.page(1), 3)
        var tabs = keys(.top, 1)  // back to following, then every tab twice
        tabs += keys(.nextTab, 12, arrivalEvery: 3) + keys(.move(1), 5) + keys(.selectTab(.invocations), 1)
        // Every status and every flush reason, then the combinations on the way to status=timeout,
        // flush=runtimeDone (none match), cold only, clear.
        var filter = keys(.openFilter, 1) + keys(.cycleStatus, 5) + keys(.cycleFlushReason, 5)
        filter += keys(.cycleStatus, 4) + keys(.cycleFlushReason, 2) + keys(.toggleCold, 2) + keys(.cycleFlushReason, 3)
        filter += keys(.cycleStatus, 1) + keys(.clearFilter, 1) + keys(.back, 1)
        let detail = keys(.move(1), 2) + keys(.open, 1) + keys(.move(1), 5) + keys(.back, 1) + keys(.top, 1)
        return [("follow", follow), ("scroll", scroll), ("tabs", tabs), ("filter", filter), ("detail", detail)]
    }

    static func measure(invocations: Int, rounds: Int, directory: String, store: String?) async throws -> Result {
        let path = store ?? "\(directory)/lantern-bench-dash-\(getpid()).db"
        func remove() { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let clock = ContinuousClock()
        let buildStart = clock.now
        if store == nil || !FileManager.default.fileExists(atPath: path) {
            remove()
            try await SyntheticStore.create(at: path, invocations: invocations)
        }
        defer { if store == nil { remove() } }
        let build = (clock.now - buildStart).milliseconds / 1000

        // The collector's side: the real Recorder commits one new (running) invocation and completes the previous one.
        let recorder = try Recorder(path: path)
        let first = try History(path: path).count(.invocations)
        var arrived = 0
        func arrive() async throws {
            let n = first + arrived + 1
            let invokedAt = SyntheticStore.base + Int64(n) * 1000
            var started = InvocationFact(requestID: SyntheticStore.requestID(n))
            started.environmentID = SyntheticStore.environmentID
            started.invokedAt = invokedAt
            started.timeoutMs = 3000
            started.memorySizeMB = 1024
            recorder.record(.invocation(started))
            if arrived > 0 {
                var done = InvocationFact(requestID: SyntheticStore.requestID(n - 1))
                done.status = .success
                done.runtimeDoneAt = invokedAt - 500
                done.releasedAt = invokedAt - 300
                done.runtimeDurationMs = 12.5
                done.durationMs = 14.0
                done.flushReason = .agent
                done.maxMemoryUsedMB = 90
                recorder.record(.invocation(done))
            }
            arrived += 1
            try await recorder.flush()
        }

        let tail = try StoreTail(path: path)
        let renderer = ScreenRenderer()
        let pageSize = ScreenRenderer.pageSize(forHeight: 40)
        // The app's header shows totals a worker thread counted; counted once here so the header renders as it does.
        let totals = try tail.totals()
        var state = UIState()
        var snapshot: DashboardSnapshot?
        var phaseTimes: [String: (wall: [Double], cpu: [Double])] = [:]
        let script = Self.script()
        for _ in 0..<rounds {
            for (name, steps) in script {
                for step in steps {
                    if step.arrival { try await arrive() }
                    if let action = step.action { _ = state.apply(action, snapshot: snapshot, pageSize: pageSize) }
                    let cpuStart = threadCPUTime()
                    let start = clock.now
                    snapshot = try Self.frame(tail, &state, totals: totals, renderer: renderer, pageSize: pageSize)
                    let wall = (clock.now - start).milliseconds
                    let cpu = (threadCPUTime() - cpuStart).milliseconds
                    phaseTimes[name, default: ([], [])].wall.append(wall)
                    phaseTimes[name, default: ([], [])].cpu.append(cpu)
                }
            }
        }
        await recorder.close()

        let totalsStart = clock.now
        let after = try tail.totals()
        let totalsMs = (clock.now - totalsStart).milliseconds
        guard after.invocations == first + arrived else {
            throw BenchFailure("the store has \(after.invocations) invocations, expected \(first + arrived)")
        }
        let phases = script.map { name, _ in
            Phase(name: name, frameMs: Percentiles(phaseTimes[name]?.wall ?? []),
                  cpuMs: Percentiles(phaseTimes[name]?.cpu ?? []))
        }
        return Result(
            invocations: first, buildSeconds: build, frameMs: Percentiles(phaseTimes.values.flatMap(\.wall)),
            cpuMs: Percentiles(phaseTimes.values.flatMap(\.cpu)), phases: phases, totalsMs: totalsMs)
    }

    /// One frame as the app draws it after a key or a commit: the change check, the snapshot, the render.
    /// Not inlined, so a profiler can count exactly these instructions
    /// (`valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*DashBenchmark*frame*'`).
    @inline(never)
    static func frame(_ tail: StoreTail, _ state: inout UIState, totals: HeaderTotals, renderer: ScreenRenderer,
                      pageSize: Int) throws -> DashboardSnapshot {
        _ = try tail.hasChanged()
        var snapshot = try tail.snapshot(state: &state, pageSize: pageSize)
        snapshot.header.totals = totals
        _ = renderer.render(snapshot, state, width: 120, height: 40, storePath: tail.path)
        return snapshot
    }
}

/// CPU time this thread has used.
func threadCPUTime() -> Duration {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
}
