@testable import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// The header totals are recounted only when a row they count changed: the dashboard reopens its store after every
/// quiet spell, and a recount scans every invocation.
@Suite("Totals worker")
struct TotalsWorkerTests {
    /// Starts the worker and waits for its result.
    private func run(_ worker: TotalsWorker, unlessAt revision: Int64?) async throws -> TotalsOutcome {
        #expect(worker.start(unlessAt: revision))
        for _ in 0..<1000 {
            if let result = worker.take() { return try result.get() }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw DashboardError(.sqlite, "the totals worker gave no result")
    }

    @Test func recountsOnlyWhenACountedRowChanged() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-totals")
        let (path, recorder) = try await StoreFixture.sequence(3, in: dir)
        let worker = TotalsWorker(path: path)

        guard case .counted(let first, let revision) = try await run(worker, unlessAt: nil) else {
            Issue.record("the first run did not count")
            return
        }
        #expect(first.invocations == 3)
        #expect(try await run(worker, unlessAt: revision) == .unchanged)

        // A log line is not counted: still unchanged.
        recorder.record(.log(LogRecord(at: StoreFixture.base, source: .function, message: "hello")))
        try await recorder.flush()
        #expect(try await run(worker, unlessAt: revision) == .unchanged)

        // An invocation changing status is.
        recorder.record(.invocation(StoreFixture.plain(2, status: .error)))
        try await recorder.flush()
        guard case .counted(let after, let newer) = try await run(worker, unlessAt: revision) else {
            Issue.record("a changed invocation was not recounted")
            return
        }
        #expect(newer > revision)
        #expect(after.byStatus["error"] == 1)
        await recorder.close()
    }
}
