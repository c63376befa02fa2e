import Foundation
import TestSupport
@testable import LanternStore

/// Temp store paths and record builders shared by the store tests.
enum StoreFixtures {
    static func storePath(_ label: String = "store") throws -> String {
        try TestPaths.temporaryDirectory("lantern-store").appendingPathComponent("\(label).db").path
    }

    static func quietOptions() -> Recorder.Options {
        var options = Recorder.Options()
        options.logsToStandardError = false
        return options
    }

    static func invocation(_ id: String, at: Int64, status: InvocationStatus? = .success) -> InvocationFact {
        var fact = InvocationFact(requestID: id)
        fact.environmentID = "env-1"
        fact.invokedAt = at
        fact.status = status
        return fact
    }

    static func fileBytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Runs `sql` on a plain read-write connection (to build fixtures the Recorder would never write).
    static func exec(_ path: String, _ sql: String) throws {
        let connection = try Connection(path: path, mode: .readWriteCreate)
        defer { connection.close() }
        try connection.execute(sql)
    }

    /// The first column of every row `sql` returns, as text.
    static func rows(_ path: String, _ sql: String) throws -> [String] {
        let connection = try Connection(path: path, mode: .readOnly)
        defer { connection.close() }
        return try connection.rows(sql).compactMap { $0[0].string }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return await condition()
}
