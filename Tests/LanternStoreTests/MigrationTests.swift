import Foundation
import Testing
@testable import LanternStore

@Suite("Store migrations")
struct MigrationTests {
    @Test("a fresh file becomes a store at the latest schema, tagged with Lantern's application_id")
    func freshStore() async throws {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        await recorder.close()

        let connection = try Connection(path: path, mode: .readOnly)
        #expect(try connection.scalar("PRAGMA application_id").int64 == Int64(StoreSchema.applicationID))
        #expect(try connection.scalar("PRAGMA journal_mode").string == "wal")
        let versions = try connection.rows("SELECT version FROM lantern_schema ORDER BY version").compactMap { $0[0].int64 }
        #expect(versions == EmbeddedSchema.migrations.map { Int64($0.version) })
        #expect(StoreSchema.latestVersion >= 2)
        _ = try History(path: path)
    }

    @Test("re-opening a current store changes nothing")
    func reopenIsNoOp() async throws {
        let path = try StoreFixtures.storePath()
        let first = try Recorder(path: path, options: StoreFixtures.quietOptions())
        first.record(.invocation(StoreFixtures.invocation("r1", at: 1)))
        await first.close()
        let before = try History(path: path).query(sql: "SELECT version, applied_at FROM lantern_schema ORDER BY version")

        let second = try Recorder(path: path, options: StoreFixtures.quietOptions())
        await second.close()
        let history = try History(path: path)
        #expect(try history.query(sql: "SELECT version, applied_at FROM lantern_schema ORDER BY version") == before)
        #expect(try history.count(.invocations) == 1)
    }

    @Test("a v1 store migrates forward and keeps its rows")
    func olderStoreMigrates() async throws {
        let path = try StoreFixtures.storePath()
        let v1 = try #require(EmbeddedSchema.migrations.first { $0.version == 1 })
        try StoreFixtures.exec(path, v1.sql + """
            ; INSERT INTO lantern_schema (version, applied_at) VALUES (1, 0);
            PRAGMA application_id = \(StoreSchema.applicationID);
            INSERT INTO invocations (request_id, invoked_at, status, rev) VALUES ('old', 5, 'error', 3);
            """)
        // A reader refuses a store its writer has not migrated yet, without touching it.
        #expect { try History(path: path) } throws: { ($0 as? StoreError)?.code == .olderSchema }

        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        recorder.record(.invocation(StoreFixtures.invocation("new", at: 6)))
        try await recorder.flush()
        #expect(recorder.statistics.revision == 4, "revisions continue from the highest one in the store")
        await recorder.close()

        let history = try History(path: path)
        let versions = try history.query(sql: "SELECT max(version) FROM lantern_schema").rows.first?.first
        #expect(versions == .integer(Int64(StoreSchema.latestVersion)))
        let index = try history.query(sql: "SELECT name FROM sqlite_master WHERE name = 'invocations_cold_start'")
        #expect(index.rows.count == 1)
        #expect(try history.invocation(requestID: "old")?.status == .error)
        #expect(try history.invocation(requestID: "new")?.rev == 4)
    }

    @Test("a v5 store migrates to v6: rows, revisions and every index kept; Managed Instances facts and 'report' accepted")
    func managedInstancesMigration() async throws {
        let path = try StoreFixtures.storePath()
        let upToV5 = EmbeddedSchema.migrations.filter { $0.version <= 5 }
        try StoreFixtures.exec(path, upToV5.map(\.sql).joined(separator: ";\n") + """
            ; INSERT INTO lantern_schema (version, applied_at) VALUES (5, 0);
            PRAGMA application_id = \(StoreSchema.applicationID);
            INSERT INTO invocations (request_id, invoked_at, status, flush_reason, agent_events, registration, rev)
                VALUES ('classic', 5, 'timeout', 'timeout', 7, '{"transaction":{}}', 3);
            INSERT INTO proxy_transactions (request_id, transaction_id, result, trigger, created_at, rev)
                VALUES ('classic', 'tx1', 'timeout', 'timeout', 9, 4);
            """)
        let indexesBefore = try StoreFixtures.rows(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")

        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        var environment = EnvironmentFact(id: "lmi")
        environment.initializationType = "lambda-managed-instances"
        environment.maxConcurrency = 4
        recorder.record(.environment(environment))
        var fact = StoreFixtures.invocation("concurrent", at: 10)
        fact.environmentID = "lmi"
        fact.flushReason = .report
        fact.inFlight = 3
        recorder.record(.invocation(fact))
        recorder.record(.proxy(ProxyTransactionRecord(
            requestID: "concurrent", environmentID: "lmi", transactionID: "tx2", traceID: nil, result: "timeout",
            outcome: "failure", durationMs: 1, trigger: .report, createdAt: 11)))
        try await recorder.flush()
        #expect(recorder.statistics.dropped == 0)
        await recorder.close()

        let history = try History(path: path)
        let old = try #require(try history.invocation(requestID: "classic"))
        #expect(old.status == .timeout && old.record.flushReason == .timeout && old.record.agentEvents == 7 && old.rev == 3)
        #expect(old.record.inFlight == nil)
        let new = try #require(try history.invocation(requestID: "concurrent"))
        #expect(new.record.flushReason == .report && new.record.inFlight == 3)
        #expect(try history.environments().first { $0.record.id == "lmi" }?.record.maxConcurrency == 4)
        #expect(try history.count(.proxies) == 2)
        let registration = try history.query(sql: "SELECT registration FROM invocations WHERE request_id = 'classic'")
        #expect(registration.rows.first?.first == .text(#"{"transaction":{}}"#))
        let indexesAfter = try StoreFixtures.rows(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        #expect(indexesAfter == (indexesBefore + ["invocations_in_flight"]).sorted(), "the rebuilt tables have every index they had")
        #expect(try history.summary().inFlight.max == 3)
    }

    @Test("a store from a newer Lantern is refused by writer and reader and left unchanged")
    func newerStoreRefused() async throws {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        await recorder.close()
        try StoreFixtures.exec(path, "INSERT INTO lantern_schema (version, applied_at) VALUES (99, 0); PRAGMA wal_checkpoint(TRUNCATE);")
        let before = try StoreFixtures.fileBytes(path)

        #expect {
            try Recorder(path: path, options: StoreFixtures.quietOptions())
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .newerSchema && error?.message.contains("v99") == true
        }
        #expect { try History(path: path) } throws: { ($0 as? StoreError)?.code == .newerSchema }
        #expect(try StoreFixtures.fileBytes(path) == before)
    }

    @Test("another application's SQLite database is refused and left unchanged")
    func foreignDatabaseRefused() throws {
        let path = try StoreFixtures.storePath()
        try StoreFixtures.exec(path, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        let before = try StoreFixtures.fileBytes(path)
        #expect {
            try Recorder(path: path, options: StoreFixtures.quietOptions())
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .notAStore && error?.message.contains("not a Lantern store") == true
        }
        #expect { try History(path: path) } throws: { ($0 as? StoreError)?.code == .notAStore }
        #expect(try StoreFixtures.fileBytes(path) == before)
    }

    @Test("a file that is not SQLite is refused and left unchanged")
    func notSQLiteRefused() throws {
        let path = try StoreFixtures.storePath()
        let text = Data(String(repeating: "just some text, not a database\n", count: 40).utf8)
        try text.write(to: URL(fileURLWithPath: path))
        #expect {
            try Recorder(path: path, options: StoreFixtures.quietOptions())
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .notAStore && error?.message.contains("not a SQLite database") == true
        }
        #expect { try History(path: path) } throws: { ($0 as? StoreError)?.code == .notAStore }
        #expect(try StoreFixtures.fileBytes(path) == text)
    }

    @Test("a missing file is a clear error for a reader, and an empty file is not a store")
    func missingAndEmptyFiles() throws {
        let path = try StoreFixtures.storePath()
        #expect {
            try History(path: path)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .cannotOpen && error?.message.contains("no such file") == true
        }
        #expect(!FileManager.default.fileExists(atPath: path), "a reader never creates the file")
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        #expect { try History(path: path) } throws: { ($0 as? StoreError)?.code == .notAStore }
    }
}

/// Coalescing facts in the writer must carry every column: a field `absorb` forgets is lost for the whole batch.
@Suite("Invocation fact coalescing")
struct InvocationFactAbsorbTests {
    @Test("absorbing a fact with every field set leaves no field unset")
    func absorbCarriesEveryField() {
        var full = InvocationFact(requestID: "r")
        full.environmentID = "e"; full.functionARN = "arn"; full.invokedAt = 1; full.deadlineAt = 2; full.timeoutMs = 3
        full.traceID = "t"; full.coldStart = true; full.startedAt = 4; full.runtimeDoneAt = 5; full.status = .error
        full.errorType = "X"; full.runtimeDurationMs = 6; full.producedBytes = 7; full.responseAt = 8
        full.agentFlushedAt = 9; full.flushReason = .report; full.releasedAt = 10; full.durationMs = 11
        full.billedDurationMs = 12; full.memorySizeMB = 13; full.maxMemoryUsedMB = 14; full.initDurationMs = 15
        full.reportStatus = "error"; full.transactionID = "tx"; full.agentEvents = 1; full.agentBytes = 2
        full.logLines = 3; full.registration = "{}"; full.inFlight = 4
        // An optional field left nil prints as "nil" through the mirror.
        let unset = Mirror(reflecting: full).children.filter { "\($0.value)" == "nil" }.compactMap(\.label)
        #expect(unset.isEmpty, "the fixture sets every field (add new ones): \(unset)")

        var merged = InvocationFact(requestID: "r")
        merged.absorb(full)
        #expect(merged == full)
    }
}
