@testable import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// Every Invocations filter reads its window through an index that holds the filter's rows in time order, so a
/// window costs the same however many rows the filter skips. Checked on SQLite's plan (the plan does not depend
/// on the data: the store has no ANALYZE statistics), not on timings.
@Suite("Filter query plans")
struct FilterPlanTests {
    @Test func everyFilterCombinationSearchesAnIndexInTimeOrder() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-plans")
        let path = dir.appendingPathComponent("plans.db").path
        // A new store at the latest schema: the plans depend on the indexes, not on the rows.
        let recorder = try Recorder(path: path)
        await recorder.close()
        let connection = try Connection(path: path, mode: .readOnly)
        defer { connection.close() }

        let query = TabQuery.invocations
        for status in [nil] + InvocationStatus.allCases.map(Optional.some) {
            for reason in [nil] + FlushReason.allCases.map(Optional.some) {
                for cold in [false, true] {
                    var state = UIState()
                    state.filter = InvocationFilter(status: status, flushReason: reason, coldOnly: cold)
                    let filter = query.filter(state)
                    // The window at the newest rows, pinned at a row (keyset), and at the oldest rows.
                    let pinned = filter.sql + ["(invoked_at, rowid) <= (?, ?)"]
                    let windows = [
                        (query.windowSQL(filter.sql, oldestFirst: false, limit: 34), filter.bindings),
                        (query.windowSQL(pinned, oldestFirst: false, limit: 34), filter.bindings + [.integer(1), .integer(1)]),
                        (query.windowSQL(filter.sql, oldestFirst: true, limit: 34), filter.bindings),
                    ]
                    for (sql, bindings) in windows {
                        let plan = try connection.rows("EXPLAIN QUERY PLAN " + sql, bindings)
                            .compactMap { $0.last?.string }.joined(separator: "\n")
                        let label = "status \(status?.rawValue ?? "any"), flush \(reason?.rawValue ?? "any"), cold \(cold)"
                        #expect(!plan.contains("SCAN invocations"), "\(label): \(plan)")
                        #expect(!plan.contains("TEMP B-TREE"), "\(label): \(plan)")
                        let index =
                            cold ? "(cold_start=?"
                            : status != nil && reason != nil ? "(status=? AND flush_reason=? AND invoked_at"
                            : status != nil ? "(status=? AND invoked_at"
                            : reason != nil ? "(flush_reason=? AND invoked_at"
                            : "invocations_invoked_at"
                        #expect(plan.contains(index), "\(label): \(plan)")
                    }
                }
            }
        }
    }
}
