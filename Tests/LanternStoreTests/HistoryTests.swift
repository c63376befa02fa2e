import Foundation
import Testing
import TestSupport
@testable import LanternStore

@Suite("History")
struct HistoryTests {
    /// A store with 10 invocations (i = 0..<10, invoked at i seconds): even ones succeed, odd ones fail;
    /// the first three are cold starts; durations 10, 20, ... 100 ms; post-runtime i ms.
    static func filledStore() async throws -> String {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        for index in 0..<10 {
            var fact = StoreFixtures.invocation("req-\(index)", at: Int64(index) * 1_000_000, status: index.isMultiple(of: 2) ? .success : .error)
            fact.coldStart = index < 3
            fact.initDurationMs = index < 3 ? Double(100 + index) : nil
            fact.durationMs = Double(index + 1) * 10
            fact.billedDurationMs = (index + 1) * 10
            fact.runtimeDoneAt = fact.invokedAt! + 500_000
            fact.releasedAt = fact.runtimeDoneAt! + Int64(index) * 1_000
            fact.flushReason = index < 7 ? .agent : .runtimeDone
            recorder.record(.invocation(fact))
        }
        recorder.record(.shutdown(ShutdownRecord(environmentID: "env-1", receivedAt: 20_000_000, reason: "spindown")))
        recorder.record(.flush(FlushRecord(startedAt: 5, trigger: .retry, events: 7, bytes: 10, outcome: .dropped)))
        recorder.record(.proxy(ProxyTransactionRecord(
            requestID: "req-1", transactionID: "tx-proxy", result: "failure", outcome: "failure", trigger: .runtimeDone,
            createdAt: 1_600_000)))
        recorder.record(.log(LogRecord(requestID: "req-3", at: 3_100_000, source: .function, level: "ERROR", message: "boom, \"quoted\"")))
        recorder.record(.lifecycle(LifecycleEvent(environmentID: "env-1", at: 1, kind: "registered", name: "lantern-extension")))
        await recorder.close()
        return path
    }

    @Test("typed queries: newest rows first chosen, returned oldest first, with filters and counts")
    func typedQueries() async throws {
        let history = try History(path: try await Self.filledStore())
        #expect(try history.invocations(limit: 3).map(\.requestID) == ["req-7", "req-8", "req-9"])
        var filter = HistoryFilter()
        filter.status = "error"
        #expect(try history.count(.invocations, filter: filter) == 5)
        filter.coldStart = true
        #expect(try history.invocations(filter: filter).map(\.requestID) == ["req-1"])
        var since = HistoryFilter()
        since.since = 8_000_000
        #expect(try history.invocations(filter: since).map(\.requestID) == ["req-8", "req-9"])
        #expect(try history.invocation(requestID: "req-4")?.durationMs == 50)
        #expect(try history.invocation(requestID: "nope") == nil)
        #expect(try history.shutdowns().first?.reason == "spindown")

        var wrong = HistoryFilter()
        wrong.status = "success"
        #expect { try history.shutdowns(filter: wrong) } throws: { ($0 as? StoreError)?.code == .sql }
    }

    @Test("summary figures match the known data")
    func summaryFigures() async throws {
        let summary = try History(path: try await Self.filledStore()).summary()
        #expect(summary.invocations == 10)
        #expect(summary.byStatus.map(\.count) == [5, 5])
        #expect(summary.byFlushReason.first?.key == "agent" && summary.byFlushReason.first?.count == 7)
        #expect(summary.duration.p50 == 50 && summary.duration.p95 == 100 && summary.duration.p99 == 100)
        #expect(summary.billedDuration.p50 == 50)
        #expect(summary.postRuntime.p50 == 4 && summary.postRuntime.max == 9)
        #expect(summary.coldStarts == 3 && summary.initDuration.p50 == 101)
        #expect(summary.shutdowns == 1 && summary.byShutdownReason.first?.key == "spindown")
        #expect(summary.droppedFlushes == 1 && summary.droppedEvents == 7)
    }

    @Test("the tail cursor sees nothing without commits and exactly the new rows after one")
    func tailCursor() async throws {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        recorder.record(.invocation(StoreFixtures.invocation("a", at: 1)))
        try await recorder.flush()

        let history = try History(path: path)
        let cursor = try TailCursor(history: history)
        #expect(try cursor.poll() == nil)
        #expect(try history.hasChanged() == false)

        recorder.record(.invocation(StoreFixtures.invocation("b", at: 2)))
        recorder.record(.log(LogRecord(requestID: "b", at: 3, source: .function, level: "INFO", message: "hi")))
        try await recorder.flush()
        let changes = try #require(try cursor.poll())
        #expect(changes.invocations.map(\.requestID) == ["b"])
        #expect(changes.logs.map(\.message) == ["hi"])
        #expect(changes.revision == (try history.maxRev()))
        #expect(try cursor.poll() == nil)
        #expect(try history.changedInvocations(sinceRev: 0).map(\.requestID) == ["a", "b"])
        await recorder.close()
    }

    @Test("raw SQL is read-only, one statement, and errors carry SQLite's message")
    func rawSQL() async throws {
        let history = try History(path: try await Self.filledStore())
        let result = try history.query(sql: "SELECT status, count(*) AS n FROM invocations GROUP BY status ORDER BY status")
        #expect(result.columns == ["status", "n"])
        #expect(result.rows == [[.text("error"), .integer(5)], [.text("success"), .integer(5)]])
        #expect { try history.query(sql: "DELETE FROM invocations") } throws: { error in
            let error = error as? StoreError
            return error?.code == .readOnly && error?.message.contains("would write") == true
        }
        #expect { try history.query(sql: "SELEC 1") } throws: { error in
            let error = error as? StoreError
            return error?.code == .sql && error?.sql == "SELEC 1" && error?.message.contains("syntax error") == true
        }
        #expect { try history.query(sql: "SELECT 1; SELECT 2") } throws: { ($0 as? StoreError)?.code == .sql }
        #expect(try history.count(.invocations) == 10)
    }

    @Test("raw SQL refuses VACUUM INTO and ATTACH, which a read-only connection alone lets through")
    func rawSQLWritesNoOtherFile() async throws {
        let directory = try TestPaths.temporaryDirectory("history-readonly")
        defer { try? FileManager.default.removeItem(at: directory) }
        let history = try History(path: try await Self.filledStore())
        func expectRefused(_ sql: String, saying reason: String) {
            do {
                _ = try history.query(sql: sql)
                Issue.record("ran: \(sql)")
            } catch {
                #expect(error.code == .readOnly && error.message.contains(reason), "\(sql): \(error)")
            }
        }
        let copy = directory.appendingPathComponent("copy.db").path
        let attached = directory.appendingPathComponent("attached.db").path
        let foreign = directory.appendingPathComponent("foreign.db").path
        try StoreFixtures.exec(foreign, "CREATE TABLE t (x)")
        for sql in [
            "VACUUM INTO '\(copy)'", "  /* a comment first */ vacuum main into '\(copy)'", "VACUUM",
            "PRAGMA user_version = 7", "PRAGMA journal_mode = DELETE", "CREATE TEMP TABLE scratch (x)",
        ] {
            expectRefused(sql, saying: "would write")
        }
        for sql in ["ATTACH '\(attached)' AS other", "ATTACH '\(foreign)' AS other", "DETACH other"] {
            expectRefused(sql, saying: "ATTACH and DETACH are refused")
        }
        #expect(!FileManager.default.fileExists(atPath: copy), "VACUUM INTO made no copy")
        #expect(!FileManager.default.fileExists(atPath: attached), "ATTACH made no file")
        // Reads still run, including read-only PRAGMAs and EXPLAIN.
        #expect(try history.query(sql: "SELECT count(*) FROM invocations").rows == [[.integer(10)]])
        #expect(try history.query(sql: "PRAGMA table_info(invocations)").rows.isEmpty == false)
        #expect(try history.query(sql: "EXPLAIN SELECT 1").rows.isEmpty == false)
        #expect(try history.query(sql: "WITH n(x) AS (SELECT 1) SELECT x FROM n").rows == [[.integer(1)]])
    }
}
