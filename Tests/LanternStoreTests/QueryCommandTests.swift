import Foundation
import Testing
import TestSupport
@testable import LanternStore

/// `lantern query` run as a process (the built binary) against stores the Recorder filled.
@Suite("lantern query")
struct QueryCommandTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func lantern(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = TestPaths.binary("lantern")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LANTERN_DB")
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func json(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test("every listing in every format")
    func listingsAndFormats() async throws {
        let db = try await HistoryTests.filledStore()
        let expectations: [(String, Int, String)] = [
            ("invocations", 10, "request_id"), ("proxies", 1, "transaction_id"), ("shutdowns", 1, "reason"),
            ("flushes", 1, "outcome"), ("logs", 1, "message"), ("events", 1, "kind"),
        ]
        for (command, rows, column) in expectations {
            let json = try Self.lantern(["query", command, "--db", db, "--format", "json"])
            #expect(json.status == 0, "\(command): \(json.stderr)")
            #expect(try Self.json(json.stdout).count == rows, "\(command)")
            #expect(try Self.json(json.stdout).first?[column] != nil, "\(command)")

            let csv = try Self.lantern(["query", command, "--db", db, "--format", "csv"])
            #expect(csv.status == 0)
            let header = csv.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(header.split(separator: ",").contains(Substring(column)), "\(command): \(header)")

            let table = try Self.lantern(["query", command, "--db", db, "--format", "table"])
            #expect(table.status == 0)
            #expect(table.stdout.contains("(\(rows) row"), "\(command): \(table.stdout)")
        }

        let table = try Self.lantern(["query", "invocations", "--db", db, "--format", "table"])
        #expect(table.stdout.contains("1970-01-01T00:00:09.000Z"), "times print as ISO-8601 in tables")
        let rows = try Self.json(try Self.lantern(["query", "invocations", "--db", db]).stdout)  // piped: JSON by default
        let last = try #require(rows.last)
        #expect(last["request_id"] as? String == "req-9")
        #expect((last["invoked_at"] as? NSNumber)?.int64Value == 9_000_000, "times stay numeric in JSON")
        #expect(last["invoked_at_iso"] as? String == "1970-01-01T00:00:09.000Z")
        let events = try Self.lantern(["query", "events", "--db", db, "--format", "table"])
        #expect(events.stdout.contains("1970-01-01T00:00:00.000Z  env-1"), "the `at` column is a time too: \(events.stdout)")
        let csv = try Self.lantern(["query", "logs", "--db", db, "--format", "csv"])
        #expect(csv.stdout.contains("\"boom, \"\"quoted\"\"\""), "CSV quotes commas and quotes")
    }

    @Test("filters and limits")
    func filters() async throws {
        let db = try await HistoryTests.filledStore()
        func ids(_ extra: [String]) throws -> [String] {
            let outcome = try Self.lantern(["query", "invocations", "--db", db, "--format", "json"] + extra)
            #expect(outcome.status == 0, "\(extra): \(outcome.stderr)")
            return try Self.json(outcome.stdout).compactMap { $0["request_id"] as? String }
        }
        #expect(try ids(["--status", "error"]).count == 5)
        #expect(try ids(["--cold"]) == ["req-0", "req-1", "req-2"])
        #expect(try ids(["--warm"]).count == 7)
        #expect(try ids(["--flush-reason", "runtimeDone"]) == ["req-7", "req-8", "req-9"])
        #expect(try ids(["--request-id", "req-4"]) == ["req-4"])
        #expect(try ids(["--limit", "2"]) == ["req-8", "req-9"])
        #expect(try ids(["--since", "1970-01-01T00:00:08Z"]) == ["req-8", "req-9"])
        #expect(try ids(["--since", "15m"]).isEmpty)

        let shutdowns = try Self.lantern(["query", "shutdowns", "--db", db, "--reason", "timeout", "--format", "json"])
        #expect(try Self.json(shutdowns.stdout).isEmpty)
        let logs = try Self.lantern(["query", "logs", "--db", db, "--level", "error", "--format", "json"])
        #expect(try Self.json(logs.stdout).count == 1)
        let events = try Self.lantern(["query", "events", "--db", db, "--kind", "registered", "--format", "json"])
        #expect(try Self.json(events.stdout).count == 1)
    }

    @Test("--since with a relative duration, and $LANTERN_DB as the default store")
    func relativeSinceAndEnvironment() async throws {
        let db = try StoreFixtures.storePath()
        let recorder = try Recorder(path: db, options: StoreFixtures.quietOptions())
        let now = epochMicros()
        recorder.record(.invocation(StoreFixtures.invocation("an-hour-ago", at: now - 3_600_000_000)))
        recorder.record(.invocation(StoreFixtures.invocation("a-minute-ago", at: now - 60_000_000)))
        await recorder.close()
        let recent = try Self.lantern(["query", "invocations", "--since", "15m"], environment: ["LANTERN_DB": db])
        #expect(recent.status == 0, "\(recent.stderr)")
        #expect(try Self.json(recent.stdout).compactMap { $0["request_id"] as? String } == ["a-minute-ago"])
        let both = try Self.lantern(["query", "invocations", "--since", "1h30m"], environment: ["LANTERN_DB": db])
        #expect(try Self.json(both.stdout).count == 2)
    }

    @Test("stats figures match the known data")
    func stats() async throws {
        let db = try await HistoryTests.filledStore()
        let outcome = try Self.lantern(["query", "stats", "--db", db, "--format", "json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        var metrics: [String: Double] = [:]
        for row in try Self.json(outcome.stdout) {
            if let name = row["metric"] as? String, let value = row["value"] as? NSNumber { metrics[name] = value.doubleValue }
        }
        #expect(metrics["invocations"] == 10)
        #expect(metrics["status.error"] == 5 && metrics["status.success"] == 5)
        #expect(metrics["flush_reason.agent"] == 7 && metrics["flush_reason.runtimeDone"] == 3)
        #expect(metrics["duration_ms.p50"] == 50 && metrics["duration_ms.p95"] == 100 && metrics["duration_ms.p99"] == 100)
        #expect(metrics["billed_duration_ms.p50"] == 50)
        #expect(metrics["post_runtime_ms.p50"] == 4 && metrics["post_runtime_ms.p99"] == 9)
        #expect(metrics["cold_starts"] == 3 && metrics["init_duration_ms.p50"] == 101)
        #expect(metrics["shutdown_reason.spindown"] == 1)
        #expect(metrics["proxies"] == 1 && metrics["proxy_trigger.runtimeDone"] == 1)
        #expect(metrics["dropped_flushes"] == 1 && metrics["dropped_events"] == 7)
        #expect(metrics["records_dropped"] == 0)

        let table = try Self.lantern(["query", "stats", "--db", db, "--format", "table"])
        #expect(table.stdout.contains("duration_ms.p95"))
        let csv = try Self.lantern(["query", "stats", "--db", db, "--format", "csv"])
        #expect(csv.stdout.hasPrefix("metric,value\ninvocations,10\n"))
    }

    @Test("sql runs read-only SQL in every format")
    func sql() async throws {
        let db = try await HistoryTests.filledStore()
        let json = try Self.lantern(["query", "sql", "--db", db, "SELECT count(*) AS n FROM invocations WHERE status = 'error'"])
        #expect(json.status == 0)
        #expect(try Self.json(json.stdout).first?["n"] as? Int == 5)
        let csv = try Self.lantern(["query", "sql", "--db", db, "--format", "csv", "SELECT status, count(*) AS n FROM invocations GROUP BY status ORDER BY status"])
        #expect(csv.stdout == "status,n\nerror,5\nsuccess,5\n")
    }

    @Test("sql refuses VACUUM INTO and ATTACH: no file is written, stderr says why, SELECT still works")
    func sqlWritesNothing() async throws {
        let directory = try TestPaths.temporaryDirectory("lantern-query-vacuum")
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = try await HistoryTests.filledStore()
        let copy = directory.appendingPathComponent("any-path.db").path
        let vacuum = try Self.lantern(["query", "sql", "--db", db, "VACUUM INTO '\(copy)'"])
        #expect(vacuum.status != 0)
        #expect(vacuum.stderr.contains("refused: the statement would write"), "\(vacuum.stderr)")
        #expect(vacuum.stderr.split(separator: "\n").count == 1, "one line: \(vacuum.stderr)")
        #expect(!FileManager.default.fileExists(atPath: copy), "VACUUM INTO wrote \(copy)")

        let attached = directory.appendingPathComponent("attached.db").path
        let attach = try Self.lantern(["query", "sql", "--db", db, "ATTACH '\(attached)' AS other"])
        #expect(attach.status != 0)
        #expect(attach.stderr.contains("ATTACH and DETACH are refused"), "\(attach.stderr)")
        #expect(!FileManager.default.fileExists(atPath: attached))

        let select = try Self.lantern(["query", "sql", "--db", db, "SELECT count(*) AS n FROM invocations"])
        #expect(select.status == 0, "\(select.stderr)")
        #expect(try Self.json(select.stdout).first?["n"] as? Int == 10)
    }

    @Test("bad input: one line on stderr, non-zero exit, nothing lost")
    func errors() async throws {
        let directory = try TestPaths.temporaryDirectory("lantern-query")
        let db = try await HistoryTests.filledStore()
        let missing = directory.appendingPathComponent("missing.db").path
        let text = directory.appendingPathComponent("notes.txt").path
        try Data(String(repeating: "hello, not sqlite\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
        let foreign = directory.appendingPathComponent("other.db").path
        try StoreFixtures.exec(foreign, "CREATE TABLE t (x); INSERT INTO t VALUES (1);")

        let cases: [([String], String)] = [
            (["query", "invocations", "--db", missing], "no such file"),
            (["query", "invocations", "--db", text], "not a SQLite database"),
            (["query", "stats", "--db", foreign], "not a Lantern store"),
            (["query", "invocations", "--db", db, "--since", "yesterday"], "bad --since 'yesterday'"),
            (["query", "stats", "--db", db, "--since", "5 minutes"], "bad --since"),
            (["query", "sql", "--db", db, "SELEC * FROM invocations"], "syntax error"),
            (["query", "sql", "--db", db, "SELECT * FROM nowhere"], "no such table: nowhere"),
            (["query", "sql", "--db", db, "DELETE FROM invocations"], "refused: the statement would write"),
            (["query", "sql", "--db", db, "SELECT 1; DROP TABLE invocations"], "only one SQL statement"),
            (["query", "invocations", "--db", db, "--status", "fine"], "--status must be one of"),
            (["query", "invocations", "--db", db, "--limit=-1"], "--limit must be"),
        ]
        for (arguments, message) in cases {
            let outcome = try Self.lantern(arguments)
            #expect(outcome.status != 0, "\(arguments)")
            #expect(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: missing), "a reader never creates a store")
        #expect(try History(path: db).count(.invocations) == 10, "nothing was lost")
        #expect(try StoreFixtures.fileBytes(text) == Data(String(repeating: "hello, not sqlite\n", count: 100).utf8))
    }

    @Test("Managed Instances: invocations list in_flight and filter by report and environment; classic tables keep their columns")
    func managedInstancesListing() async throws {
        let path = try StoreFixtures.storePath()
        let recorder = try Recorder(path: path, options: StoreFixtures.quietOptions())
        var lmi = EnvironmentFact(id: "lmi-env")
        lmi.initializationType = "lambda-managed-instances"
        lmi.maxConcurrency = 4
        recorder.record(.environment(lmi))
        for (index, inFlight) in [1, 2, 3].enumerated() {
            var fact = StoreFixtures.invocation("lmi-\(index)", at: Int64(index) * 100_000)
            fact.environmentID = "lmi-env"
            fact.inFlight = inFlight
            fact.flushReason = .report
            recorder.record(.invocation(fact))
        }
        var classic = StoreFixtures.invocation("classic-0", at: 5_000_000)
        classic.flushReason = .agent
        recorder.record(.invocation(classic))
        try await recorder.flush()
        await recorder.close()

        let table = try Self.lantern(["query", "invocations", "--db", path, "--format", "table"])
        #expect(table.status == 0, "\(table.stderr)")
        let header = try #require(table.stdout.split(separator: "\n").first)
        #expect(header.contains("flush_reason  in_flight"), "\(header)")
        let reported = try Self.json(try Self.lantern(
            ["query", "invocations", "--db", path, "--flush-reason", "report", "--format", "json"]).stdout)
        #expect(reported.compactMap { ($0["in_flight"] as? NSNumber)?.intValue }.sorted() == [1, 2, 3])
        let byEnvironment = try Self.lantern(
            ["query", "invocations", "--db", path, "--environment", "lmi-env", "--format", "table"])
        #expect(byEnvironment.stdout.contains("(3 rows)") && !byEnvironment.stdout.contains("classic-0"))

        // Only classic rows: no in_flight column, as before Managed Instances.
        let classicOnly = try Self.lantern(["query", "invocations", "--db", path, "--flush-reason", "agent", "--format", "table"])
        let classicHeader = try #require(classicOnly.stdout.split(separator: "\n").first)
        #expect(!classicHeader.contains("in_flight") && classicHeader.contains("flush_reason  duration_ms"), "\(classicHeader)")

        let stats = try Self.lantern(["query", "stats", "--db", path, "--format", "csv"])
        #expect(stats.stdout.contains("in_flight.max,3.0"), "\(stats.stdout)")
        #expect(stats.stdout.contains("flush_reason.report,3"), "\(stats.stdout)")
    }
}
