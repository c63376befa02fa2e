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
}
