import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// A store with 1,000,000 invocations: the dashboard must start and answer keys at once.
@Suite("A million invocations", .serialized)
struct MillionInvocationTests {
    static let count = 1_000_000

    /// The store `lantern-bench dash` measures, built the same way.
    static func makeStore(in dir: URL) async throws -> String {
        let path = dir.appendingPathComponent("million.db").path
        try await SyntheticStore.create(at: path, invocations: count)
        return path
    }

    /// Invocation `i` as the list shows it (the first 8 characters of its request id, e.g. `m0000001`).
    static func listID(_ i: Int) -> String { String(SyntheticStore.requestID(i).prefix(8)) }

    @Test func dashboardStartsAndAnswersKeysOnAMillionInvocations() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-million")
        let clock = ContinuousClock()
        let buildStart = clock.now
        let path = try await Self.makeStore(in: dir)
        print("dash: built a \(Self.count)-invocation store in \(clock.now - buildStart)")

        // In-process frame cost: snapshot (keyset window + header reads) and render, at the top and the bottom.
        let tail = try StoreTail(path: path)
        var state = UIState()
        var frames: [Duration] = []
        for i in 0..<30 {
            if i == 15 { _ = state.apply(.bottom, snapshot: nil, pageSize: 33) }
            let start = clock.now
            let snapshot = try tail.snapshot(state: &state, pageSize: 33)
            _ = ScreenRenderer().render(snapshot, state, width: 120, height: 40, storePath: path)
            frames.append(clock.now - start)
        }
        frames.sort()
        print("dash: frame (snapshot + render) at 1M invocations: median \(milliseconds(frames[15])) ms, "
            + "max \(milliseconds(frames.last!)) ms")
        let totalsStart = clock.now
        let totals = try tail.totals()
        print("dash: header totals at 1M invocations: \(milliseconds(clock.now - totalsStart)) ms (off the UI thread)")
        #expect(totals.invocations == Self.count)
        #expect(totals.byStatus["error"] == Self.count / 50)

        // The real binary in a real terminal.
        let tmux = try TmuxSession(width: 120, height: 40)
        let launch = clock.now
        try tmux.run("\(lanternCommand) dash --db '\(path)'")
        let (_, firstFrame) = try tmux.expectScreen("first frame", timeout: .seconds(30)) {
            $0.contains(Self.listID(Self.count)) && $0.contains(SyntheticStore.functionName)
        }
        _ = launch
        print("dash: first frame with rows \(milliseconds(firstFrame)) ms after launch (1M invocations)")

        try tmux.keys("j")
        let (_, moved) = try tmux.expectScreen("j moves the selection", timeout: .seconds(10)) { screen in
            screen.split(separator: "\n").first { $0.hasPrefix(">") }?.contains(Self.listID(Self.count - 1)) == true
        }
        print("dash: key j answered on screen in \(milliseconds(moved)) ms (1M invocations)")

        try tmux.keys("G")
        let (_, bottom) = try tmux.expectScreen("G goes to the oldest row", timeout: .seconds(10)) { screen in
            screen.split(separator: "\n").first { $0.hasPrefix(">") }?.contains(Self.listID(1)) == true
        }
        print("dash: key G (oldest of 1M) answered on screen in \(milliseconds(bottom)) ms")

        let (screen, counted) = try tmux.expectScreen("header totals", timeout: .seconds(30)) {
            $0.contains("invocations 1,000,000")
        }
        print("dash: header totals on screen \(milliseconds(counted)) ms after G")
        #expect(screen.contains("error 20,000"))

        // A term that matches nothing reads all 1,000,000 rows in the background: the frame that says so is
        // drawn while it runs (the search used to hold the UI thread for the whole scan), then the answer comes.
        try tmux.keys("g", "/")
        try tmux.type("no-such-term")
        try tmux.keys("Enter")
        try tmux.expectScreen("search under way", timeout: .seconds(10)) { $0.contains("searching for \"no-such-term\"") }
        let (_, searched) = try tmux.expectScreen("search answered", timeout: .seconds(60)) {
            $0.contains("no older match for \"no-such-term\"")
        }
        print("dash: a search with no match over 1M invocations answered in \(milliseconds(searched)) ms")
        try tmux.keys("q")
        try tmux.expectScreen("clean exit") { $0.contains("EXITED=0") }
    }
}
