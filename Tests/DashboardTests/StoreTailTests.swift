import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// The store tail: keyset paging, the selection kept while scrolled, change detection, and the states a new user meets.
@Suite("Store tail")
struct StoreTailTests {
    private func selectedID(_ snapshot: DashboardSnapshot, _ state: UIState) -> String? {
        snapshot.rows.requestID(at: state.position.cursor)
    }

    @Test func pagingMovesTheWindowByKeyset() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tail")
        let (path, recorder) = try await StoreFixture.sequence(100, in: dir)
        await recorder.close()
        let tail = try StoreTail(path: path)
        var state = UIState()
        var snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000100")
        #expect(snapshot.hasOlder && !snapshot.hasNewer)

        // j past the bottom of the window scrolls by one row.
        for _ in 0..<10 { _ = state.apply(.move(1), snapshot: snapshot, pageSize: 10) }
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000090")
        #expect(state.position.cursor == 9)
        #expect(snapshot.hasNewer)
        #expect(state.following == false)

        // Page down twice, page up once.
        _ = state.apply(.page(1), snapshot: snapshot, pageSize: 10)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        _ = state.apply(.page(1), snapshot: snapshot, pageSize: 10)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000070")
        _ = state.apply(.page(-1), snapshot: snapshot, pageSize: 10)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000080")

        // G: the oldest row; g: the newest.
        _ = state.apply(.bottom, snapshot: snapshot, pageSize: 10)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000001")
        #expect(!snapshot.hasOlder)
        _ = state.apply(.move(1), snapshot: snapshot, pageSize: 10)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000001", "j at the oldest row stays there")
        _ = state.apply(.top, snapshot: snapshot, pageSize: 10)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000100")
        _ = state.apply(.move(-1), snapshot: snapshot, pageSize: 10)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000100", "k at the newest row stays there")
    }

    @Test func newRowsNeitherMoveTheSelectionWhileScrolledNorHideFromFollow() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tail")
        let (path, recorder) = try await StoreFixture.sequence(30, in: dir)
        let tail = try StoreTail(path: path)
        #expect(try tail.hasChanged())
        #expect(try !tail.hasChanged())
        var state = UIState()
        var snapshot = try tail.snapshot(state: &state, pageSize: 10)
        for _ in 0..<3 { _ = state.apply(.move(1), snapshot: snapshot, pageSize: 10) }
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000027")
        #expect(state.liveMode == .scrolled)

        // Two rows: they show on top, the selection moves down with its row.
        for i in 31...32 { recorder.record(.invocation(StoreFixture.plain(i))) }
        try await recorder.flush()
        #expect(try tail.hasChanged())
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000027", "scrolled: the selection stays on its row")
        #expect(state.position.cursor == 5)
        #expect(snapshot.rows.requestID(at: 0) == "req-000032", "scrolled: new rows still show")
        #expect(!snapshot.hasNewer)

        // More than the window holds: the selected row stays in it, at the bottom, under the rows just newer.
        for i in 33...45 { recorder.record(.invocation(StoreFixture.plain(i))) }
        try await recorder.flush()
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000027")
        #expect(state.position.cursor == 9)
        #expect(snapshot.rows.requestID(at: 0) == "req-000036")
        #expect(snapshot.hasNewer)
        // Pinned now: more rows do not move the window.
        recorder.record(.invocation(StoreFixture.plain(46)))
        try await recorder.flush()
        let pinned = snapshot.rows.keys
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(snapshot.rows.keys == pinned)
        #expect(selectedID(snapshot, state) == "req-000027")

        _ = state.apply(.top, snapshot: snapshot, pageSize: 10)
        #expect(state.following)
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000046", "following: the newest row is on top")
        recorder.record(.invocation(StoreFixture.plain(47)))
        try await recorder.flush()
        snapshot = try tail.snapshot(state: &state, pageSize: 10)
        #expect(selectedID(snapshot, state) == "req-000047")
        await recorder.close()
    }

    @Test func emptyStoreSaysSo() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tail")
        let path = dir.appendingPathComponent("empty.db").path
        let recorder = try Recorder(path: path)
        await recorder.close()
        let tail = try StoreTail(path: path)
        var state = UIState()
        var snapshot = try tail.snapshot(state: &state, pageSize: 10)
        snapshot.header.totals = try tail.totals()
        let text = ScreenRenderer().render(snapshot, state, width: 120, height: 20, storePath: path)
            .map(\.text).joined(separator: "\n")
        #expect(snapshot.rows.count == 0)
        #expect(text.contains("No invocations yet"))
        #expect(text.contains("invocations 0") || text.contains("none yet"))
    }

    @Test func missingStoreIsWaitedFor() throws {
        let dir = try TestPaths.temporaryDirectory("dash-tail")
        let error = StoreTail.probe(path: dir.appendingPathComponent("nope.db").path)
        #expect(error?.code == .storeMissing)
        let empty = dir.appendingPathComponent("zero.db").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(StoreTail.probe(path: empty)?.code == .storeNotReady)
    }

    @Test func textFileIsNotAStore() throws {
        let dir = try TestPaths.temporaryDirectory("dash-tail")
        let path = dir.appendingPathComponent("notes.db").path
        try "just some notes, not SQLite at all\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(StoreTail.probe(path: path))
        #expect(error.code == .notLanternStore)
        #expect(error.message.contains("not a Lantern store"))
        #expect(StoreTail.probe(path: dir.path)?.code == .notLanternStore, "a directory is not a store")
    }

    @Test func foreignSQLiteIsNotAStore() throws {
        let dir = try TestPaths.temporaryDirectory("dash-tail")
        let path = dir.appendingPathComponent("other.db").path
        let connection = try Connection(path: path, mode: .readWriteCreate)
        try connection.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos VALUES (1, 'x')")
        connection.close()
        let error = try #require(StoreTail.probe(path: path))
        #expect(error.code == .notLanternStore)
    }

    @Test func newerStoreIsRefused() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tail")
        let path = try await NewerStore.make(in: dir)
        let error = try #require(StoreTail.probe(path: path))
        #expect(error.code == .newerSchema)
        #expect(error.message.contains("newer"))
    }
}

/// A store whose schema version is past this binary's (as if a newer Lantern wrote it).
enum NewerStore {
    static func make(in dir: URL) async throws -> String {
        let path = dir.appendingPathComponent("future.db").path
        // The Recorder creates the schema; then a "future" migration row is added by hand.
        let recorder = try Recorder(path: path)
        await recorder.close()
        let writer = try Connection(path: path, mode: .readWrite)
        try writer.run("INSERT INTO lantern_schema (version, applied_at) VALUES (?, 0)",
                       [.integer(Int64(StoreSchema.latestVersion + 1))])
        writer.close()
        return path
    }
}
