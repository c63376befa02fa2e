import Foundation
import Testing
import TestSupport
@testable import LanternStore

/// `ImportWriter` and `lantern import` (the built binary) over real store files: idempotent, per-line atomic,
/// bad lines counted with their line numbers, and the fleet store read by `lantern query` with its filters.
@Suite("lantern import", .serialized)
struct ImportTests {
    // MARK: the writer

    static func facts(_ request: String, env: String, at: Int64, status: InvocationStatus? = .success) -> ImportedFacts {
        var environment = EnvironmentFact(id: env)
        environment.functionName = "fn-\(env)"
        environment.startedAt = at
        var fact = InvocationFact(requestID: request)
        fact.environmentID = env
        fact.invokedAt = at
        fact.status = status
        fact.flushReason = .agent
        fact.releasedAt = at + 20_000
        fact.durationMs = 19.5
        return ImportedFacts(environment: environment, invocation: fact)
    }

    @Test("writing the same facts twice changes nothing, not even a revision")
    func writerIsIdempotent() throws {
        let path = try StoreFixtures.storePath("import-idempotent")
        var lines = (0..<50).map { Self.facts("r\($0)", env: $0 < 25 ? "e1" : "e2", at: 1_000_000 + Int64($0) * 1000) }
        var shutdown = EnvironmentFact(id: "e1")
        shutdown.shutdownAt = 9_000_000
        shutdown.shutdownReason = "spindown"
        lines.append(ImportedFacts(environment: shutdown, shutdown: ShutdownRecord(
            environmentID: "e1", receivedAt: 9_000_000, reason: "spindown", pendingInvocations: 0, flushOutcome: "sent")))
        let writer = try ImportWriter(path: path)
        #expect(try writer.write(lines).isEmpty)
        let snapshot = try Self.dump(path)
        #expect(try writer.write(lines).isEmpty)
        #expect(try writer.write(Array(lines.reversed())).isEmpty)
        writer.close()
        #expect(try Self.dump(path) == snapshot)
        #expect(try StoreFixtures.rows(path, "SELECT count(*) || '' FROM invocations") == ["50"])
        #expect(try StoreFixtures.rows(path, "SELECT count(*) || '' FROM shutdowns") == ["1"])
        #expect(try StoreFixtures.rows(path, "SELECT id || ':' || started_at || ':' || coalesce(shutdown_reason, '-') FROM environments ORDER BY id")
                == ["e1:1000000:spindown", "e2:1025000:-"])
    }

    @Test("stats of a fleet store: all of it, one function's environments, one environment")
    func scopedSummary() throws {
        let path = try StoreFixtures.storePath("import-scoped-stats")
        let writer = try ImportWriter(path: path)
        var lines = (0..<30).map { Self.facts("r\($0)", env: $0 < 10 ? "e1" : "e2", at: 1_000_000 + Int64($0) * 1000,
                                             status: $0 % 5 == 0 ? .error : .success) }
        lines += (0..<4).map { Self.facts("x\($0)", env: "e3", at: 2_000_000 + Int64($0) * 1000) }
        #expect(try writer.write(lines).isEmpty)
        writer.close()
        let history = try History(path: path)
        #expect(try history.summary().invocations == 34)
        let e2 = try history.summary(functionName: "fn-e2")
        #expect(e2.invocations == 20)
        #expect(e2.byStatus.first { $0.key == "error" }?.count == 4)
        #expect(try history.summary(environmentID: "e1").invocations == 10)
        #expect(try history.summary(environmentID: "e1", functionName: "fn-e2").invocations == 0)
        #expect(try history.summary(since: 2_000_000, functionName: "fn-e3").invocations == 4)
    }

    @Test("a line the store refuses is rolled back whole; its batch-mates are committed")
    func refusedLineIsRolledBack() throws {
        let path = try StoreFixtures.storePath("import-refused")
        let writer = try ImportWriter(path: path)
        defer { writer.close() }
        var bad = Self.facts("r-bad", env: "e-bad", at: 5_000)
        // The store refuses the line's proxy (a trigger stands in for any constraint): its environment and its
        // invocation, written before the proxy, must go too.
        bad.proxy = ProxyTransactionRecord(requestID: "r-bad", environmentID: "e-bad", transactionID: "t",
                                           trigger: .report, createdAt: 5_000)
        try StoreFixtures.exec(path, "CREATE TRIGGER refuse BEFORE INSERT ON proxy_transactions BEGIN SELECT RAISE(ABORT, 'refused'); END")
        let refused = try writer.write([Self.facts("r1", env: "e1", at: 1_000), bad, Self.facts("r2", env: "e1", at: 2_000)])
        #expect(refused.map(\.index) == [1])
        #expect(try StoreFixtures.rows(path, "SELECT request_id FROM invocations ORDER BY request_id") == ["r1", "r2"])
        #expect(try StoreFixtures.rows(path, "SELECT id FROM environments") == ["e1"])
    }

    /// Every row of the tables an import writes, rev included.
    static func dump(_ path: String) throws -> [String] {
        let connection = try Connection(path: path, mode: .readOnly)
        defer { connection.close() }
        var rows: [String] = []
        for table in ["environments", "invocations", "proxy_transactions", "shutdowns"] {
            rows += try connection.rows("SELECT * FROM \(table) ORDER BY rowid").map { "\(table): \($0)" }
        }
        return rows
    }

    // MARK: the command

    static let env1 = "11111111-aaaa-4bbb-8ccc-000000000001"
    static let env2 = "22222222-aaaa-4bbb-8ccc-000000000002"

    /// A lifecycle event as the collector forwards it (intake form), and as Elasticsearch stores it (`_source`).
    static func intakeLine(_ request: String, env: String, function: String, at: Int64, status: String = "success") -> String {
        #"{"log":{"@timestamp":\#(at),"event.dataset":"lantern.lifecycle","log.level":"info","message":"invocation","faas":{"execution":"\#(request)","coldstart":false,"name":"\#(function)","version":"$LATEST"},"labels":{"lantern_kind":"invocation","lantern_environment":"\#(env)","lantern_initialization_type":"on-demand","lantern_status":"\#(status)","lantern_flush_reason":"agent","lantern_handler_ms":12.5,"lantern_post_runtime_ms":1.25,"lantern_total_ms":14,"lantern_duration_ms":15.5,"lantern_billed_duration_ms":16,"lantern_memory_mb":256,"lantern_in_flight":1}}}"#
    }

    static func elasticsearchHit(_ request: String, env: String, function: String, iso: String) -> String {
        #"{"_index":".ds-logs-apm.app.x","_source":{"@timestamp":"\#(iso)","event":{"dataset":"lantern.lifecycle"},"service":{"name":"\#(function)"},"faas":{"execution":"\#(request)","name":"\#(function)"},"labels":{"lantern_kind":"invocation","lantern_environment":"\#(env)","lantern_status":"error","lantern_flush_reason":"runtimeDone"},"numeric_labels":{"lantern_handler_ms":7.25,"lantern_post_runtime_ms":0.5,"lantern_total_ms":8,"lantern_in_flight":1}}}"#
    }

    static func shutdownSource(env: String, function: String, iso: String) -> String {
        #"{"@timestamp":"\#(iso)","event.dataset":"lantern.lifecycle","faas.name":"\#(function)","labels.lantern_kind":"shutdown","labels.lantern_environment":"\#(env)","labels.lantern_shutdown_reason":"spindown","labels.lantern_flush_outcome":"sent","numeric_labels.lantern_pending_invocations":0,"numeric_labels.lantern_proxies_created":0,"numeric_labels.lantern_exited_in_ms":3.5}"#
    }

    @Test("two functions, two environments, three shapes; a second import changes nothing; query filters by both")
    func importsAFleet() throws {
        let folder = try TestPaths.temporaryDirectory("lantern-import")
        let db = folder.appendingPathComponent("fleet.db").path
        let file = folder.appendingPathComponent("fleet.ndjson")
        let lines = [
            #"{"metadata":{"service":{"name":"orders"}}}"#,
            Self.intakeLine("r-1", env: Self.env1, function: "orders", at: 1_796_000_000_000_000),
            Self.intakeLine("r-2", env: Self.env1, function: "orders", at: 1_796_000_001_000_000),
            #"{"log":{"@timestamp":1796000001500000,"message":"a function's own log line"}}"#,
            Self.elasticsearchHit("r-3", env: Self.env2, function: "billing", iso: "2026-11-30T10:00:00.123456789Z"),
            Self.shutdownSource(env: Self.env2, function: "billing", iso: "2026-11-30T10:05:00.000Z"),
            "",
        ]
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)

        let first = try QueryCommandTests.lantern(["import", file.path, "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("4 lifecycle events"), "\(first.stdout)")
        #expect(first.stdout.contains("2 environments, 2 functions"), "\(first.stdout)")
        #expect(first.stdout.contains("2 other events skipped"), "\(first.stdout)")
        let snapshot = try Self.dump(db)
        let second = try QueryCommandTests.lantern(["import", file.path, "--db", db])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try Self.dump(db) == snapshot, "the second import changed the store")

        let r3 = try #require(try QueryCommandTests.json(
            QueryCommandTests.lantern(["query", "invocations", "--db", db, "--request-id", "r-3", "--format", "json"]).stdout).first)
        #expect(r3["invoked_at"] as? Int == 1_796_032_800_123_456)
        #expect(r3["status"] as? String == "error" && r3["runtime_duration_ms"] as? Double == 7.25)
        #expect(r3["released_at"] as? Int == 1_796_032_800_131_456)
        #expect(r3["runtime_done_at"] as? Int == 1_796_032_800_130_956)

        let orders = try QueryCommandTests.json(
            QueryCommandTests.lantern(["query", "invocations", "--db", db, "--function", "orders", "--format", "json"]).stdout)
        #expect(orders.compactMap { $0["request_id"] as? String } == ["r-1", "r-2"])
        let billing = try QueryCommandTests.json(
            QueryCommandTests.lantern(["query", "invocations", "--db", db, "--environment", Self.env2, "--format", "json"]).stdout)
        #expect(billing.compactMap { $0["request_id"] as? String } == ["r-3"])
        let environments = try QueryCommandTests.json(
            QueryCommandTests.lantern(["query", "environments", "--db", db, "--format", "json"]).stdout)
        #expect(Set(environments.compactMap { $0["function_name"] as? String }) == ["orders", "billing"])
        let shutdowns = try QueryCommandTests.json(
            QueryCommandTests.lantern(["query", "shutdowns", "--db", db, "--function", "billing", "--format", "json"]).stdout)
        #expect(shutdowns.count == 1 && shutdowns.first?["exited_at"] as? Int == 1_796_033_100_003_500)
    }

    @Test("bad lines are counted and named by line number, exit status 1; the good lines are imported, the bad not at all")
    func badLines() throws {
        let folder = try TestPaths.temporaryDirectory("lantern-import-bad")
        let db = folder.appendingPathComponent("fleet.db").path
        let file = folder.appendingPathComponent("bad.ndjson")
        let lines = [
            Self.intakeLine("r-1", env: Self.env1, function: "orders", at: 1_796_000_000_000_000),
            "{not json",
            Self.intakeLine("r-2", env: Self.env1, function: "orders", at: 1_796_000_001_000_000, status: "splendid"),
            #"{"log":{"@timestamp":1796000001500000,"event.dataset":"lantern.lifecycle","labels":{"lantern_kind":"invocation"}}}"#,
            Self.intakeLine("r-3", env: Self.env1, function: "orders", at: 1_796_000_002_000_000),
        ]
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let outcome = try QueryCommandTests.lantern(["import", file.path, "--db", db])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.contains("3 bad lines"), "\(outcome.stdout)")
        for number in [2, 3, 4] {
            #expect(outcome.stderr.contains("bad.ndjson:\(number):"), "\(outcome.stderr)")
        }
        #expect(try StoreFixtures.rows(db, "SELECT request_id FROM invocations ORDER BY request_id") == ["r-1", "r-3"])
    }
}
