import Foundation
import Testing
@testable import LanternStore

@Suite("The store's size bound", .serialized)
struct StorePrunerTests {
    /// One invocation as the collector records it: the invocation, a flush, two log lines, and every tenth a proxy.
    static func records(_ index: Int, at: Int64) -> [StoreRecord] {
        let id = "req-\(index)"
        var fact = StoreFixtures.invocation(id, at: at, status: index % 10 == 0 ? .timeout : .success)
        fact.agentFlushedAt = at + 30_000
        fact.releasedAt = at + 31_000
        var records: [StoreRecord] = [
            .invocation(fact),
            .flush(FlushRecord(environmentID: "env-1", requestID: id, startedAt: at + 30_500, trigger: .invocation,
                               events: 5, bytes: 2_000, httpStatus: 202, outcome: .sent, durationMs: 0.4)),
            .log(LogRecord(environmentID: "env-1", requestID: id, at: at + 1_000, source: .function, level: "INFO",
                           message: "handling \(id) " + String(repeating: "x", count: 120))),
            .log(LogRecord(environmentID: "env-1", requestID: id, at: at + 2_000, source: .function, message: "done \(id)")),
        ]
        if index % 10 == 0 {
            records.append(.proxy(ProxyTransactionRecord(
                requestID: id, environmentID: "env-1", transactionID: "tx-\(index)", result: "timeout",
                outcome: "failure", durationMs: 3_000, trigger: .runtimeDone, createdAt: at + 3_000_000)))
        }
        return records
    }

    @Test("a 1 MB bound holds (file and WAL) while 12,000 invocations are recorded: the newest stay, pruned ones leave nothing behind, store_prunes says what went")
    func boundHolds() async throws {
        let path = try StoreFixtures.storePath("bounded")
        var options = StoreFixtures.quietOptions()
        options.sizeBoundBytes = 1 << 20
        let recorder = try Recorder(path: path, options: options)
        let start: Int64 = 1_800_000_000_000_000
        var largest = 0
        var largestMain = 0
        for index in 0..<12_000 {
            for record in Self.records(index, at: start + Int64(index) * 100_000) { recorder.record(record) }
            // Committed a few invocations at a time, as the collector does (one small transaction per invocation).
            if index % 10 == 9 {
                try await recorder.flush()
                largest = max(largest, Self.fileBytes(path))
                largestMain = max(largestMain, (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
            }
        }
        await recorder.close()
        let statistics = recorder.statistics
        #expect(statistics.dropped == 0)
        #expect(statistics.prunes > 0 && statistics.prunedInvocations > 0)
        // The file stops growing below the bound, leaving room for its WAL (a tenth of the bound between
        // checkpoints; a prune's own transaction adds to it briefly, until the checkpoint after it).
        #expect(largestMain <= (1 << 20) * 8 / 10 + 64 * 1024, "largest file \(largestMain) bytes")
        #expect(largest <= (1 << 20) * 13 / 10, "largest file + WAL \(largest) bytes")

        let history = try History(path: path)
        let kept = try history.count(.invocations)
        #expect(kept > 500 && kept < 12_000, "\(kept) invocations kept")
        // The newest invocation is there; the oldest is gone, with everything that named it.
        #expect(try history.query(sql: "SELECT count(*) FROM invocations WHERE request_id = 'req-11999'").rows.first?.first == .integer(1))
        #expect(try history.query(sql: "SELECT count(*) FROM invocations WHERE request_id = 'req-0'").rows.first?.first == .integer(0))
        for table in ["flushes", "log_records", "proxy_transactions"] {
            let orphans = try history.query(sql: """
                SELECT count(*) FROM \(table) WHERE request_id IS NOT NULL
                  AND request_id NOT IN (SELECT request_id FROM invocations)
                """).rows.first?.first
            #expect(orphans == .integer(0), "\(table) keeps rows of pruned invocations")
        }
        // Never half an invocation: every kept one still has its flush and both log lines.
        let incomplete = try history.query(sql: """
            SELECT count(*) FROM invocations i WHERE
              (SELECT count(*) FROM log_records l WHERE l.request_id = i.request_id) != 2
              OR (SELECT count(*) FROM flushes f WHERE f.request_id = i.request_id) != 1
            """).rows.first?.first
        #expect(incomplete == .integer(0))
        let summary = try history.summary(since: nil)
        #expect(summary.prunes == statistics.prunes)
        #expect(summary.prunedInvocations == 12_000 - kept)
        #expect(summary.lastPrunedAt != nil)
    }

    @Test("without a bound nothing is pruned")
    func noBoundNoPrune() async throws {
        let path = try StoreFixtures.storePath("unbounded")
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        for index in 0..<3_000 {
            for record in Self.records(index, at: 1_800_000_000_000_000 + Int64(index) * 100_000) { recorder.record(record) }
        }
        await recorder.close()
        #expect(recorder.statistics.prunes == 0)
        #expect(try History(path: path).count(.invocations) == 3_000)
    }

    @Test("the default bound is 5% of the file system, between 8 and 256 MB")
    func defaultBound() throws {
        let bound = StorePruner.defaultBound(forStoreAt: try StoreFixtures.storePath("default"))
        #expect(bound >= 8 << 20 && bound <= 256 << 20)
    }

    static func fileBytes(_ path: String) -> Int {
        [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
    }
}
