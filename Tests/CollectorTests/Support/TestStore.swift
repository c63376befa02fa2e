// A real store (Recorder + SQLite file in a temp dir) for tests that check the `flushes` rows.

import Foundation
import LanternStore
import TestSupport

/// One `flushes` row, as the tests look at it.
struct FlushRowView: Equatable {
    var trigger: String
    var outcome: String
    var httpStatus: Int64?
    var events: Int64
    var attempt: Int64
    var error: String?
    var requestID: String?
}

final class TestStore: Sendable {
    let recorder: Recorder
    let path: String

    init() throws {
        let directory = try TestPaths.temporaryDirectory("collector-apm")
        path = directory.appendingPathComponent("lantern.db").path
        recorder = try Recorder(path: path)
    }

    func flushes() async throws -> [FlushRowView] {
        try await recorder.flush()
        let connection = try Connection(path: path, mode: .readOnly)
        defer { connection.close() }
        return try connection.rows(
            "SELECT trigger, outcome, http_status, events, attempt, error, request_id FROM flushes ORDER BY id"
        ).map { row in
            FlushRowView(
                trigger: row[0].string ?? "", outcome: row[1].string ?? "", httpStatus: row[2].int64,
                events: row[3].int64 ?? -1, attempt: row[4].int64 ?? -1, error: row[5].string, requestID: row[6].string)
        }
    }

    func lifecycleKinds() async throws -> [String] {
        try await recorder.flush()
        let connection = try Connection(path: path, mode: .readOnly)
        defer { connection.close() }
        return try connection.rows("SELECT kind FROM lifecycle_events ORDER BY id").compactMap { $0[0].string }
    }

    func close() async { await recorder.close() }
}
