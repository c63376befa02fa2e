@testable import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// Following, scrolled and paused (issue 15): the reducer's transitions, the title marker, and a paused session
/// that reads nothing while the store changes.
@Suite("Live modes")
struct LiveModeTests {
    /// A window of `count` invocations, newest first (keys count...1), as the store tail would read it.
    private func window(_ count: Int) -> DashboardSnapshot {
        let rows = (1...count).reversed().map {
            InvocationListRow(key: RowKey(time: Int64($0) * 1000, rowid: Int64($0)), requestID: "req-\($0)")
        }
        return DashboardSnapshot(header: HeaderSnapshot(storePath: "x.db"), rows: .invocations(rows), hasOlder: true)
    }

    @Test func movingStopsFollowingAndRemembersTheSelectedRow() {
        let snapshot = window(10)
        var state = UIState()
        #expect(state.liveMode == .following)
        _ = state.apply(.move(2), snapshot: snapshot, pageSize: 10)
        #expect(state.liveMode == .scrolled)
        #expect(state.position.cursor == 2)
        #expect(state.position.selection == snapshot.rows.keys[2])
        // Past the window: the store tail hops by the cursor, so no row is named.
        _ = state.apply(.page(1), snapshot: snapshot, pageSize: 10)
        #expect(state.position.selection == nil)
        _ = state.apply(.top, snapshot: snapshot, pageSize: 10)
        #expect(state.liveMode == .following)
        #expect(state.position == ListPosition())
        _ = state.apply(.bottom, snapshot: snapshot, pageSize: 10)
        #expect(state.liveMode == .scrolled)
        #expect(state.position.anchor == .oldest)
    }

    @Test func spaceTogglesPauseFromFollowingAndFromScrolled() {
        let snapshot = window(10)
        var state = UIState()
        _ = state.apply(.togglePause, snapshot: snapshot, pageSize: 10)
        #expect(state.liveMode == .paused)
        _ = state.apply(.togglePause, snapshot: snapshot, pageSize: 10)
        #expect(state.liveMode == .following)

        _ = state.apply(.move(3), snapshot: snapshot, pageSize: 10)
        _ = state.apply(.togglePause, snapshot: snapshot, pageSize: 10)
        #expect(state.liveMode == .paused)
        #expect(state.position.cursor == 3, "pausing keeps the selection")
        _ = state.apply(.togglePause, snapshot: snapshot, pageSize: 10)
        #expect(state.liveMode == .following, "space ends a pause by following")
        #expect(state.position == ListPosition())

        var empty = UIState()
        _ = empty.apply(.togglePause, snapshot: nil, pageSize: 10)
        #expect(empty.liveMode == .following)
        #expect(empty.message == "nothing to pause yet")
    }

    @Test func pausedKeysMoveWithinTheRowsShown() {
        let snapshot = window(6)
        var state = UIState()
        _ = state.apply(.togglePause, snapshot: snapshot, pageSize: 10)
        _ = state.apply(.move(4), snapshot: snapshot, pageSize: 10)
        #expect(state.position.cursor == 4)
        _ = state.apply(.move(5), snapshot: snapshot, pageSize: 10)
        #expect(state.position.cursor == 5, "the last row shown, not a hop past the window")
        _ = state.apply(.page(-1), snapshot: snapshot, pageSize: 10)
        #expect(state.position.cursor == 0)
        _ = state.apply(.bottom, snapshot: snapshot, pageSize: 10)
        #expect(state.position.cursor == 5)
        _ = state.apply(.top, snapshot: snapshot, pageSize: 10)
        #expect(state.position.cursor == 0)
        #expect(state.liveMode == .paused, "g does not end a pause")

        // A terminal made smaller while paused: the cursor stays on the rows that fit.
        _ = state.apply(.bottom, snapshot: snapshot, pageSize: 3)
        #expect(state.position.cursor == 2)

        // Enter still opens the selected invocation.
        _ = state.apply(.open, snapshot: snapshot, pageSize: 10)
        #expect(state.mode == .detail(requestID: "req-4"))
    }

    @Test(arguments: [Action.nextTab, .previousTab, .selectTab(.logs), .beginSearch, .searchNext, .searchPrevious,
                      .openFilter])
    func pausedRefusesWhatNeedsOtherRows(action: Action) {
        let snapshot = window(6)
        var state = UIState()
        state.search = "req"
        _ = state.apply(.togglePause, snapshot: snapshot, pageSize: 10)
        let before = state
        #expect(state.apply(action, snapshot: snapshot, pageSize: 10) == .none)
        #expect(state.message?.contains("space resumes") == true)
        state.message = nil
        #expect(state == before)
    }

    @Test func aSearchAnswerWhilePausedSelectsOnlyARowOnScreen() {
        let snapshot = window(6)
        var state = UIState()
        _ = state.apply(.togglePause, snapshot: snapshot, pageSize: 10)
        state.select(snapshot.rows.keys[3], visible: snapshot.rows.keys)
        #expect(state.position.cursor == 3)
        #expect(state.liveMode == .paused)
        state.select(RowKey(time: 1, rowid: 99), visible: snapshot.rows.keys)
        #expect(state.position.cursor == 3)
        #expect(state.message?.contains("off screen") == true)

        var live = UIState()
        live.select(RowKey(time: 1, rowid: 99), visible: snapshot.rows.keys)
        #expect(live.liveMode == .scrolled)
        #expect(live.position == ListPosition(anchor: .at(RowKey(time: 1, rowid: 99)), cursor: 0,
                                              selection: RowKey(time: 1, rowid: 99)))
    }

    @Test(arguments: [(LiveMode.following, "FOLLOWING"), (.scrolled, "SCROLLED"), (.paused, "PAUSED")])
    func titleNamesTheMode(mode: LiveMode, marker: String) {
        var state = UIState()
        state.liveMode = mode
        let lines = ScreenRenderer().render(nil, state, width: 100, height: 20, storePath: "x.db")
        #expect(lines[0].text.hasSuffix(" \(marker) "))
        let footer = lines[19].text
        #expect(footer.contains(mode == .paused ? "space resume" : "space pause"))
        #expect(footer.contains("g follow") == (mode == .scrolled))
    }

    /// The selected row is found again by its key when newer rows arrived, and when it was deleted its older
    /// neighbour takes its place.
    @Test func scrolledFindsThePrunedSelectionsNeighbour() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-live")
        let (path, recorder) = try await StoreFixture.sequence(10, in: dir)
        await recorder.close()
        let tail = try StoreTail(path: path)
        var state = UIState()
        var snapshot = try tail.snapshot(state: &state, pageSize: 20)
        _ = state.apply(.move(4), snapshot: snapshot, pageSize: 20)
        snapshot = try tail.snapshot(state: &state, pageSize: 20)
        #expect(snapshot.rows.requestID(at: state.position.cursor) == "req-000006")
        let writer = try Connection(path: path, mode: .readWrite)
        try writer.execute("DELETE FROM invocations WHERE request_id IN ('req-000006', 'req-000010')")
        writer.close()
        snapshot = try tail.snapshot(state: &state, pageSize: 20)
        #expect(snapshot.rows.requestID(at: state.position.cursor) == "req-000005")
        #expect(state.position.cursor == 3)
    }

    @Test func pausedSessionReadsNothingButAnOpenedInvocation() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-live")
        let (path, recorder) = try await StoreFixture.sequence(5, in: dir)
        var session = Session(path: path, renderer: ScreenRenderer(), totalsInterval: .seconds(1))
        session.tail = try StoreTail(path: path)
        session.totals = try session.tail?.totals()
        session.refresh(pageSize: 10)
        let shown = try #require(session.snapshot)
        _ = session.state.apply(.move(1), snapshot: shown, pageSize: 10)
        session.refresh(pageSize: 10)
        _ = session.state.apply(.togglePause, snapshot: session.snapshot, pageSize: 10)
        let frozen = try #require(session.snapshot)

        // New rows, a changed row on screen, new totals: none of it shows.
        for i in 6...8 { recorder.record(.invocation(StoreFixture.plain(i))) }
        recorder.record(.invocation(StoreFixture.plain(3, status: .error)))
        try await recorder.flush()
        session.totals = try session.tail?.totals()
        session.refresh(pageSize: 10)
        #expect(session.snapshot == frozen)
        #expect(session.state.position.selection == frozen.rows.keys[1])

        // Enter reads the invocation asked for (as it is now); the list behind it stays.
        _ = session.state.apply(.move(1), snapshot: session.snapshot, pageSize: 10)
        _ = session.state.apply(.open, snapshot: session.snapshot, pageSize: 10)
        session.refresh(pageSize: 10)
        #expect(session.snapshot?.detail?.row.requestID == "req-000003")
        #expect(session.snapshot?.detail?.row.status == "error")
        #expect(session.snapshot?.rows == frozen.rows)
        #expect(session.snapshot?.header == frozen.header)
        _ = session.state.apply(.back, snapshot: session.snapshot, pageSize: 10)

        // Space: following, with everything that arrived.
        _ = session.state.apply(.togglePause, snapshot: session.snapshot, pageSize: 10)
        session.refresh(pageSize: 10)
        #expect(session.snapshot?.rows.requestID(at: session.state.position.cursor) == "req-000008")
        #expect(session.snapshot?.header.totals?.invocations == 8)
        await recorder.close()
    }
}
