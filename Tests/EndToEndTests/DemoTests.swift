// `lantern demo` and `lantern sample-function` as a user runs them: real processes on loopback,
// a real SQLite store read back with Python's sqlite3, the received APM events validated against
// the intake v2 schemas.

import Foundation
import Testing
import TestSupport

@Suite("lantern demo", .serialized)
struct DemoTests {
    private var lantern: URL { TestPaths.binary("lantern") }

    /// What the store says about a demo run.
    struct StoreFacts: Decodable {
        var invocations: Int
        var flush: [String: Int]
        var status: [String: Int]
        var cold: Int
        var proxies: Int
        var proxyRequests: [String]
        var shutdowns: [String: Int]
        var environments: Int
    }

    static let storeScript = #"""
    import json, sqlite3, sys
    db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
    one = lambda sql: db.execute(sql).fetchone()[0]
    pairs = lambda sql: {str(k): v for k, v in db.execute(sql).fetchall()}
    print(json.dumps({
        "invocations": one("select count(*) from invocations"),
        "flush": pairs("select coalesce(flush_reason, 'none'), count(*) from invocations group by 1"),
        "status": pairs("select coalesce(status, 'none'), count(*) from invocations group by 1"),
        "cold": one("select count(*) from invocations where cold_start = 1"),
        "proxies": one("select count(*) from proxy_transactions"),
        "proxyRequests": [r[0] for r in db.execute("select request_id from proxy_transactions")],
        "shutdowns": pairs("select reason, count(*) from shutdowns group by 1"),
        "environments": one("select count(*) from environments"),
    }))
    """#

    /// A demo run whose invocations all succeeded or failed in the handler: each ended by the agent's flush, one
    /// spindown, and every transaction at the APM Server, schema-valid.
    static func expectCleanRun(db: URL, events: URL, invocations: Int) async throws {
        let facts = try await DemoChild.python(storeScript, [db.path], as: StoreFacts.self)
        #expect(facts.invocations == invocations)
        #expect(facts.flush["agent"] == invocations, "\(facts.flush)")
        #expect(facts.shutdowns == ["spindown": 1], "\(facts.shutdowns)")
        let report = try await IntakeSchemas.validate([events])
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect((report.counts["transaction"] ?? 0) == invocations, "\(report.counts)")
    }

    @Test("the sample function's agent events are valid intake v2 events")
    func sampleEventsValidate() async throws {
        let folder = try TestPaths.temporaryDirectory("demo-events")
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [URL] = []
        for kind in ["success", "slow", "error"] {
            let result = try await DemoChild.run(
                lantern, ["sample-function", "--print-events", kind],
                environment: ["AWS_LAMBDA_FUNCTION_NAME": "lantern-demo", "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]abc"],
                timeout: .seconds(60))
            #expect(result.status == 0, "\(result.stderr)")
            let file = folder.appendingPathComponent("\(kind).ndjson")
            try result.stdout.write(to: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        let report = try await IntakeSchemas.validate(files)
        #expect(report.errors.isEmpty, "\(report.errors)")
        // Per kind: registration (metadata + partial transaction) and flush (metadata, span, [error], transaction).
        #expect(report.counts["metadata"] == 6)
        #expect(report.counts["transaction"] == 6)
        #expect(report.counts["span"] == 3)
        #expect(report.counts["error"] == 1)
    }

    @Test("the schema check rejects an invalid event, so a pass means something")
    func schemaCheckCanFail() async throws {
        let folder = try TestPaths.temporaryDirectory("demo-events-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("bad.ndjson")
        try #"{"transaction":{"id":"abc","type":"request"}}"#.write(to: file, atomically: true, encoding: .utf8)
        let report = try await IntakeSchemas.validate([file])
        #expect(!report.errors.isEmpty)
    }

    @Test("sample-function outside a sandbox says what is missing and fails")
    func sampleFunctionNeedsRuntimeAPI() async throws {
        let result = try await DemoChild.run(
            lantern, ["sample-function"], removing: ["AWS_LAMBDA_RUNTIME_API"], timeout: .seconds(60))
        #expect(result.status != 0)
        #expect(result.stderr.contains("AWS_LAMBDA_RUNTIME_API"))
    }

    @Test("a bad --mix is refused before anything starts", arguments: ["success=abc", "nap=3", "success=0", "success=1,success=2"])
    func badMixIsRefused(mix: String) async throws {
        let folder = try TestPaths.temporaryDirectory("demo-badmix")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("demo.db")
        let result = try await DemoChild.run(
            lantern, ["demo", "--no-dash", "--count", "1", "--mix", mix, "--db", db.path], timeout: .seconds(60))
        #expect(result.status != 0)
        #expect(result.stderr.contains("mix"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db.path))
    }

    /// 50 invocations: 35 success, 5 slow, 5 error, 2 timeout, 3 crash (largest remainder of the weights).
    @Test("lantern demo --no-dash --count 50 leaves a store that matches the mix", .timeLimit(.minutes(10)))
    func headlessDemoMatchesMix() async throws {
        let folder = try TestPaths.temporaryDirectory("demo-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("demo.db")
        let events = folder.appendingPathComponent("apm-events.ndjson")
        let result = try await DemoChild.run(
            lantern,
            [
                "demo", "--no-dash", "--count", "50", "--rate", "20", "--seed", "7",
                "--mix", "success=70,slow=10,error=10,timeout=4,crash=6",
                "--db", db.path, "--apm-events", events.path,
            ],
            currentDirectory: folder, timeout: .seconds(420))
        let log = (try? String(contentsOf: folder.appendingPathComponent("demo.log"), encoding: .utf8)) ?? ""
        try #require(!result.timedOut && result.status == 0, "demo failed: \(result.stderr)\n\(result.stdout)\n--- emulator log tail:\n\(log.suffix(4000))")
        #expect(result.stdout.contains("50 invocations"))

        let facts = try await DemoChild.python(Self.storeScript, [db.path], as: StoreFacts.self)
        #expect(facts.invocations == 50)
        // Success, slow and error invocations end by the agent's flush; timeouts and crashes never flush.
        #expect(facts.flush["agent"] == 45, "\(facts.flush)")
        #expect(facts.flush["none"] == nil, "\(facts.flush)")
        // runtimeDone status: 40 successes, 2 timeouts; errors and crashes are `error` (function error,
        // Runtime.ExitError) or `failure`, 8 in all.
        #expect(facts.status["success"] == 40 && facts.status["timeout"] == 2, "\(facts.status)")
        #expect((facts.status["error"] ?? 0) + (facts.status["failure"] ?? 0) == 8, "\(facts.status)")
        // Each timeout and crash leaves a registered transaction the agent never sent: one proxy each, never two.
        #expect(facts.proxies == 5)
        #expect(Set(facts.proxyRequests).count == facts.proxies)
        // Every reset is a SHUTDOWN, the next invocation is a cold start; the run ends with a spindown.
        #expect(facts.shutdowns == ["timeout": 2, "failure": 3, "spindown": 1], "\(facts.shutdowns)")
        #expect(facts.cold == 6)
        #expect(facts.environments == 6)

        let report = try await IntakeSchemas.validate([events])
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect((report.counts["transaction"] ?? 0) == 50, "45 agent transactions + 5 proxies: \(report.counts)")
        #expect((report.counts["error"] ?? 0) == 5)
    }
}
