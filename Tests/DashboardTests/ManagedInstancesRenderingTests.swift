@testable import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// Lambda Managed Instances on screen (issue 14): the in-flight column, the header's concurrency, the overlap in
/// the detail, the `report` flush reason; and classic Lambda exactly as before.
@Suite("Managed Instances rendering")
struct ManagedInstancesRenderingTests {
    let width = 140
    let height = 40

    private func screen(_ path: String, _ state: inout UIState, width: Int? = nil, glyphs: Glyphs = .unicode)
        throws -> [String]
    {
        let tail = try StoreTail(path: path)
        var snapshot = try tail.snapshot(state: &state, pageSize: ScreenRenderer.pageSize(forHeight: height))
        snapshot.header.totals = try tail.totals()
        let w = width ?? self.width
        let lines = ScreenRenderer(glyphs: glyphs).render(snapshot, state, width: w, height: height, storePath: path)
        #expect(lines.count == height)
        #expect(lines.allSatisfy { $0.width == w })
        return lines.map(\.text)
    }

    private func row(_ lines: [String], _ id: String) throws -> String {
        try #require(lines.first { $0.contains(String(id.prefix(8))) }, "no row for \(id)")
    }

    @Test func listShowsInFlightReportAndNoPostRuntime() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-lmi")
        let path = try await StoreFixture.managedInstances(in: dir)
        var state = UIState()
        let lines = try screen(path, &state)
        let ids = StoreFixture.managedIDs
        #expect(lines[5].contains("STATUS      ×N "), "in-flight column title: \(lines[5])")
        for (i, step) in StoreFixture.managedPlan.enumerated() {
            let line = try row(lines, ids[i])
            #expect(line.contains("×\(step.inFlight) "), "\(ids[i]) lacks ×\(step.inFlight): \(line)")
            // Nothing is held after a Managed Instances invocation: no post-runtime figure, not even a dash.
            #expect(!line.contains("+"), "\(ids[i]) shows a post-runtime time: \(line)")
            if step.durationMs != nil {
                #expect(line.contains("report"), "\(line)")
                #expect(!line.contains(" - "), "\(ids[i]) shows a post-runtime or memory dash: \(line)")
            }
        }
        #expect(try row(lines, ids[2]).contains("50.0ms"))
        #expect(try row(lines, ids[4]).contains("running"))
        #expect(try row(lines, ids[3]).contains("◆"))
    }

    @Test func headerShowsManagedInstancesInFlightPeakAndStrip() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-lmi")
        let path = try await StoreFixture.managedInstances(in: dir)
        var state = UIState()
        let lines = try screen(path, &state, width: 160)
        #expect(lines[1].contains("orders-lmi (emulator, managed instances ×4)"), "\(lines[1])")
        #expect(lines[1].contains("invocations 5"))
        // lmi00005 has not reported yet; the most at once was three (lmi00001..3).
        #expect(lines[1].contains("in flight 1  peak 3"), "\(lines[1])")
        // 30 buckets of 2 s ending at the last end: everything happened in the last one, which peaked at 3 of 4.
        #expect(lines[1].contains(String(repeating: "·", count: 29) + "▆ 60s"), "\(lines[1])")
        #expect(lines[2].contains("report 4"), "\(lines[2])")
        #expect(lines[2].contains("running 1"), "\(lines[2])")

        // A narrower terminal keeps the newest buckets of the strip, labelled with what they cover.
        let narrow = try screen(path, &state, width: 124)
        #expect(narrow[1].contains("in flight 1  peak 3  ") && narrow[1].trimmingCharacters(in: .whitespaces).hasSuffix(" " + String(repeating: "·", count: 12) + "▆ 26s"), "\(narrow[1])")

        let ascii = try screen(path, &state, width: 160, glyphs: .ascii)
        #expect(ascii[1].contains("managed instances x4") && ascii[1].contains(String(repeating: ".", count: 29) + "="))
        #expect(ascii.joined().unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func detailShowsConcurrencyAtStartAndTheOverlap() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-lmi")
        let path = try await StoreFixture.managedInstances(in: dir)
        let ids = StoreFixture.managedIDs
        var state = UIState()
        state.mode = .detail(requestID: ids[1])
        // The body only: the header's totals name every flush reason.
        var text = try screen(path, &state).dropFirst(6).joined(separator: "\n")
        for fragment in [
            "Invocation lmi00002-error-overlapped", "×2 in flight at start", "lmi-env-1  managed instances, up to ×4",
            "platform.start", "platform.report", "at 400.0ms", "(flush reason: report)", "response",
            "Concurrency", "×2 at its start of at most ×4", "2 other invocations ran at the same time",
            "billed duration, memory and post-runtime time: Managed Instances report none",
        ] {
            #expect(text.contains(fragment), "detail lacks \(fragment)\n\(text)")
        }
        // Classic steps and figures an LMI invocation does not have.
        for absent in ["INVOKE received", "runtimeDone", "released", "post-runtime -", "billed -", "lmi00004", "lmi00005"] {
            #expect(!text.contains(absent), "detail shows \(absent)\n\(text)")
        }
        let lines = text.split(separator: "\n").map(String.init)
        let first = try row(lines.filter { !$0.contains("Invocation") }, ids[0])
        #expect(first.contains("success") && first.contains("start   -100.0ms") && first.contains("end   +200.0ms")
            && first.contains("×1 at its start"), "\(first)")
        let third = try row(lines.filter { !$0.contains("Invocation") }, ids[2])
        #expect(third.contains("start   +100.0ms") && third.contains("end   +150.0ms"), "\(third)")

        // One that still runs overlaps the timeout that started before it; it ran alone otherwise.
        state.mode = .detail(requestID: ids[3])
        text = try screen(path, &state).joined(separator: "\n")
        #expect(text.contains("1 other invocation ran at the same time"), "\(text)")
        #expect(text.contains("lmi00005") && text.contains("running"), "\(text)")
        #expect(text.contains("txn-proxy-lmi") && text.contains("trigger report"))

        state.mode = .detail(requestID: ids[4])
        text = try screen(path, &state).joined(separator: "\n")
        #expect(text.contains("1 other invocation ran at the same time") && text.contains("lmi00004"), "\(text)")
        #expect(!text.contains("(flush reason"), "a running invocation has no flush reason yet")
    }

    @Test("the overlap list is a few lines; the rest are counted")
    func overlapIsBounded() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-lmi")
        let path = dir.appendingPathComponent("busy.db").path
        let recorder = try Recorder(path: path)
        var env = EnvironmentFact(id: "busy-env")
        env.initializationType = "lambda-managed-instances"
        env.maxConcurrency = 16
        recorder.record(.environment(env))
        for i in 0..<12 {
            var f = InvocationFact(requestID: String(format: "busy%04d-request", i))
            f.environmentID = "busy-env"
            f.invokedAt = StoreFixture.base + Int64(i) * 10_000
            f.timeoutMs = 3000
            f.inFlight = i + 1
            f.durationMs = 1000
            f.status = .success
            f.flushReason = .report
            recorder.record(.invocation(f))
        }
        try await recorder.flush()
        await recorder.close()
        var state = UIState()
        state.mode = .detail(requestID: "busy0000-request")
        let text = try screen(path, &state).joined(separator: "\n")
        #expect(text.contains("11 other invocations ran at the same time"), "\(text)")
        #expect(text.contains("busy0006") && !text.contains("busy0007"), "six shown\n\(text)")
        #expect(text.contains("+5 more"), "\(text)")
    }

    @Test func flushReasonFilterReachesReport() async throws {
        var state = UIState()
        state.mode = .filterMenu
        var seen: [FlushReason?] = []
        for _ in 0...FlushReason.allCases.count {
            _ = state.apply(.cycleFlushReason, snapshot: nil, pageSize: 10)
            seen.append(state.filter.flushReason)
        }
        #expect(seen.contains(.report))
        #expect(seen.last == .some(nil), "the cycle comes back to any")

        let dir = try TestPaths.temporaryDirectory("dash-lmi")
        let path = try await StoreFixture.managedInstances(in: dir)
        var filtered = UIState()
        filtered.filter = InvocationFilter(flushReason: .report)
        let lines = try screen(path, &filtered)
        #expect(lines.filter { $0.contains("lmi0000") }.count == 4)
        #expect(lines[4].contains("filter: flush=report"))
        let menu = Overlays(glyphs: .unicode).filterMenu(filtered.filter).map(\.text).joined(separator: "\n")
        #expect(menu.contains("report"))
    }

    /// The docs' capture of the known classic store (docs/dashboard.md, 120 columns), less the local clock.
    @Test func classicRendersAsBefore() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-lmi")
        let path = try await StoreFixture.known(in: dir)
        var state = UIState()
        let lines = try screen(path, &state, width: 120)
        #expect(lines[1].trimmingCharacters(in: .whitespaces)
            == "env    checkout-fn (512 MB, emulator)   invocations 5  cold starts 1", "\(lines[1])")
        #expect(!lines[1].contains("in flight") && !lines[2].contains("report"))
        #expect(lines[5] == " TIME          REQUEST  C STATUS    vs TIMEOUT  HANDLER     POST  TIMEOUT  FLUSH        P  MEMORY"
            + String(repeating: " ", count: 120 - 97), "\(lines[5])")
        let expected = [
            "  eeee0005 ❄ success   █▒········    160.0ms  +20.0ms    3.00s  agent           84/512 MB",
            "  dddd0004   timeout   █▒········    150.0ms  +20.0ms    3.00s  timeout         83/512 MB",
            "  cccc0003   failure   █▒········    140.0ms  +20.0ms    3.00s  shutdown     ◆  82/512 MB",
            "  bbbb0002   error     █▒········    130.0ms  +20.0ms    3.00s  runtimeDone  ◆  81/512 MB  Runtime.HandledE",
            "  aaaa0001   success   █▒········    120.0ms  +20.0ms    3.00s  agent           80/512 MB",
        ]
        for (i, want) in expected.enumerated() {
            let got = String(lines[6 + i].dropFirst(13)).trimmingCharacters(in: .whitespaces)
            #expect(got == want.trimmingCharacters(in: .whitespaces), "row \(i):\n\(got)\n\(want)")
        }
        state.mode = .detail(requestID: StoreFixture.ids[1])
        let detail = try screen(path, &state, width: 120).joined(separator: "\n")
        #expect(detail.contains("handler     130.0ms   post-runtime 20.0ms"))
        #expect(!detail.contains("Concurrency") && !detail.contains("in flight"))
    }

    @Test func inFlightStripCountsOverlapPerBucket() {
        let intervals = [
            InvocationInterval(start: 0, end: 3, inFlight: 1), InvocationInterval(start: 1, end: 5, inFlight: 2),
            InvocationInterval(start: 6, end: nil, inFlight: 1),
        ]
        #expect(ConcurrencyStrip.buckets(intervals, from: 0, to: 10, count: 5) == [2, 2, 1, 1, 1])
        // One that started before the intervals read still counts through a later start's in_flight.
        let carried = intervals + [InvocationInterval(start: 9, end: 9, inFlight: 4)]
        #expect(ConcurrencyStrip.buckets(carried, from: 0, to: 10, count: 5) == [2, 2, 1, 1, 4])
        // Ending when another starts is not overlapping.
        let touching = [InvocationInterval(start: 0, end: 2, inFlight: 1), InvocationInterval(start: 2, end: 4, inFlight: 1)]
        #expect(ConcurrencyStrip.buckets(touching, from: 0, to: 4, count: 1) == [1])
        // Scaled to the maximum concurrency (full block = at the limit), or to the largest value above it.
        #expect(Sparkline(glyphs: .unicode).cells([0, 1, 2, 4], ceiling: 4) == "·▂▄█")
        #expect(Sparkline(glyphs: .unicode).cells([0, 1, 2, 4, 8], ceiling: 4) == "·▁▂▄█")
    }

    /// In flight now is read on every frame of an LMI store: it must go through the flush-reason index (the few
    /// open invocations), not an environment's whole history.
    @Test func inFlightNowUsesTheFlushReasonIndex() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-lmi")
        let path = try await StoreFixture.managedInstances(in: dir)
        let connection = try Connection(path: path, mode: .readOnly)
        defer { connection.close() }
        let plan = try connection.rows("EXPLAIN QUERY PLAN " + StoreTail.inFlightNowSQL, []).compactMap { $0.last?.string }.joined(separator: "\n")
        #expect(plan.contains("invocations_flush_reason") || plan.contains("(flush_reason=?"), "\(plan)")
        #expect(!plan.contains("SCAN invocations"), "\(plan)")
    }
}
