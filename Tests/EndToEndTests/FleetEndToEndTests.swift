// The fleet view end to end: two `lantern demo` runs (different seeds, so different environments) append their
// APM events to one file; every invocation and SHUTDOWN of both stores has its `lantern.lifecycle` event, valid
// against the intake schemas; `lantern import` brings them into one store that `lantern query` reads with the same
// facts as the two local stores, and a second import changes nothing.

import Foundation
import Testing
import TestSupport

@Suite("fleet view", .serialized)
struct FleetEndToEndTests {
    private var lantern: URL { TestPaths.binary("lantern") }

    /// Per request id: environment, status, flush reason, released and runtimeDone times, and the SHUTDOWNs, from
    /// one or more stores; plus the lifecycle events of an events file by kind.
    static let compareScript = #"""
    import json, sqlite3, sys
    rows, shutdowns, environments = {}, [], set()
    for path in sys.argv[2:]:
        db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
        for r in db.execute("select request_id, environment_id, status, flush_reason, released_at, runtime_done_at, cold_start from invocations"):
            rows[r[0]] = list(r[1:])
        shutdowns += [list(r) for r in db.execute("select environment_id, received_at, reason, pending_invocations from shutdowns")]
        environments |= {r[0] for r in db.execute("select id from environments")}
    kinds = {}
    for line in open(sys.argv[1]):
        event = json.loads(line).get("log", {})
        if event.get("event.dataset") == "lantern.lifecycle":
            kind = event["labels"]["lantern_kind"]
            kinds[kind] = kinds.get(kind, 0) + 1
    print(json.dumps({"rows": rows, "shutdowns": sorted(shutdowns), "environments": sorted(environments), "kinds": kinds}))
    """#

    struct Facts: Decodable, Equatable {
        var rows: [String: [JSONScalar]]
        var shutdowns: [[JSONScalar]]
        var environments: [String]
        var kinds: [String: Int]
    }

    @Test("two demo runs append to one events file; import; query shows both environments", .timeLimit(.minutes(10)))
    func twoDemosImported() async throws {
        let folder = try TestPaths.temporaryDirectory("fleet")
        defer { try? FileManager.default.removeItem(at: folder) }
        let events = folder.appendingPathComponent("fleet.ndjson")
        var stores: [String] = []
        for seed in ["1", "2"] {
            let db = folder.appendingPathComponent("demo-\(seed).db").path
            stores.append(db)
            let result = try await DemoChild.run(
                lantern,
                ["demo", "--no-dash", "--count", "12", "--rate", "20", "--seed", seed, "--mix", "success=80,error=20",
                 "--db", db, "--apm-events", events.path],
                currentDirectory: folder, timeout: .seconds(240))
            try #require(!result.timedOut && result.status == 0, "demo \(seed) failed: \(result.stderr)\n\(result.stdout)")
        }
        let report = try await IntakeSchemas.validate([events])
        #expect(report.errors.isEmpty, "\(report.errors)")

        let local = try await DemoChild.python(Self.compareScript, [events.path] + stores, as: Facts.self)
        #expect(local.rows.count == 24)
        #expect(local.environments.count == 2)
        // Appended, not truncated: both runs' events are in the file, one per invocation and one per SHUTDOWN.
        #expect(local.kinds == ["invocation": 24, "shutdown": 2], "\(local.kinds)")

        let fleet = folder.appendingPathComponent("fleet.db").path
        let imported = try await DemoChild.run(lantern, ["import", events.path, "--db", fleet], timeout: .seconds(60))
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("26 lifecycle events") && imported.stdout.contains("2 environments"),
                "\(imported.stdout)")
        let fromFleet = try await DemoChild.python(Self.compareScript, [events.path, fleet], as: Facts.self)
        #expect(fromFleet.rows == local.rows, "the imported invocations differ from the local stores'")
        #expect(fromFleet.shutdowns == local.shutdowns)
        #expect(fromFleet.environments == local.environments)

        let again = try await DemoChild.run(lantern, ["import", events.path, "--db", fleet], timeout: .seconds(60))
        #expect(again.status == 0)
        #expect(try await DemoChild.python(Self.compareScript, [events.path, fleet], as: Facts.self) == fromFleet)

        let query = try await DemoChild.run(
            lantern, ["query", "environments", "--db", fleet, "--format", "json"], timeout: .seconds(30))
        let listed = try JSONSerialization.jsonObject(with: Data(query.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(Set(listed.compactMap { $0["id"] as? String }) == Set(local.environments))
        #expect(listed.allSatisfy { $0["shutdown_reason"] as? String == "spindown" })
        for environment in local.environments {
            let one = try await DemoChild.run(
                lantern, ["query", "invocations", "--db", fleet, "--environment", environment, "--format", "json"],
                timeout: .seconds(30))
            let rows = try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(rows.count == 12, "environment \(environment)")
        }
    }
}

/// A JSON number, string or null (rows read back by Python).
enum JSONScalar: Decodable, Equatable {
    case number(Double), string(String), null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let number = try? container.decode(Double.self) { self = .number(number) }
        else { self = .string(try container.decode(String.self)) }
    }
}
