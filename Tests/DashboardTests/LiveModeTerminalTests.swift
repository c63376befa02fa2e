import Foundation
import LanternStore
import Testing
import TestSupport

/// Following, scrolled and paused in a real terminal, while the Recorder keeps writing the store (issue 15):
/// moving the cursor stops following but the data stays live; only space freezes the screen.
extension TerminalTests {
    /// The header's invocation count, as the environment line shows it (`invocations 40  cold starts`).
    private func invocations(_ n: Int) -> String { "invocations \(n)  cold" }

    /// The list rows on screen (each starts with a space, or `>` when selected, then the time).
    private func listRows(_ screen: String) -> [String] {
        screen.split(separator: "\n").map(String.init).filter { $0.contains(" live0") }
    }

    @Test func scrolledStaysLiveAndOnlySpacePauses() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-live")
        let path = dir.appendingPathComponent("live.db").path
        let recorder = try Recorder(path: path)
        func record(_ numbers: ClosedRange<Int>, status: InvocationStatus = .success) async throws {
            for i in numbers { recorder.record(.invocation(StoreFixture.live(i, status: status))) }
            try await recorder.flush()
        }
        try await record(1...5)
        // 30 rows: a list of 23 rows.
        let tmux = try TmuxSession(width: 120, height: 30)
        try tmux.run("\(lanternCommand) dash --db '\(path)'")
        var (screen, _) = try tmux.expectScreen("following the newest row") {
            $0.contains("FOLLOWING") && self.selectedLine($0)?.contains("live0005") == true
                && $0.contains(self.invocations(5))
        }

        // j: not following any more, but new rows and the header totals keep coming; the selection stays put.
        try tmux.keys("j")
        try tmux.expectScreen("selection on live0004") { self.selectedLine($0)?.contains("live0004") == true }
        try await record(6...6)
        try await record(7...7, status: .error)
        try tmux.expectScreen("header totals after j") {
            $0.contains(self.invocations(7)) && $0.contains("error 1 failure")
        }
        (screen, _) = try tmux.expectScreen("rows that arrived after j") { $0.contains("live0007") }
        #expect(selectedLine(screen)?.contains("live0004") == true, "the selected request stays selected")
        #expect(listRows(screen).first?.contains("live0007") == true, "new rows arrive on top")
        let title = try #require(screen.split(separator: "\n").first)
        #expect(title.contains("SCROLLED") && !title.contains("FOLLOWING"), "title: \(title)")

        // More rows than the list holds: the selected row stays on screen (at the bottom), newer ones are above it.
        try await record(8...40)
        (screen, _) = try tmux.expectScreen("the selection kept on screen") {
            $0.contains(self.invocations(40)) && self.listRows($0).last?.hasPrefix(">") == true
        }
        #expect(selectedLine(screen)?.contains("live0004") == true)
        #expect(listRows(screen).count == 23)
        #expect(screen.contains("live0026") && !screen.contains("live0027"))
        #expect(screen.contains("↑ newer"))

        // space: paused. Rows arrive and a row on screen changes in the store; the screen does not.
        try tmux.keys("Space")
        try tmux.expectScreen("paused") { $0.split(separator: "\n").first?.contains("PAUSED") == true }
        try await Task.sleep(for: .milliseconds(300))
        let frozen = try tmux.capture()
        try await record(41...43)
        try await record(4...5, status: .timeout)
        // Longer than a UI tick, the totals interval (1 s) and the reopen after 2 quiet seconds.
        try await Task.sleep(for: .milliseconds(2500))
        screen = try tmux.capture()
        #expect(screen == frozen, "paused, yet the screen changed:\n\(frozen)\n---\n\(screen)")

        // Paused, k moves within what is shown; Tab says why it does nothing.
        try tmux.keys("k")
        (screen, _) = try tmux.expectScreen("k while paused") { self.selectedLine($0)?.contains("live0005") == true }
        #expect(!screen.contains("live0041") && screen.contains(invocations(40)))
        #expect(!(selectedLine(screen)?.contains("timeout") ?? true), "the row's new status is not read while paused")
        try tmux.keys("Tab")
        (screen, _) = try tmux.expectScreen("Tab refused while paused") { $0.contains("space resumes") }
        #expect(screen.contains("[1 Invocations]"))

        // space again: following, with everything that arrived meanwhile.
        try tmux.keys("Space")
        (screen, _) = try tmux.expectScreen("following again") {
            $0.contains("FOLLOWING") && self.selectedLine($0)?.contains("live0043") == true
                && $0.contains(self.invocations(43)) && $0.contains("timeout 2")
        }

        // j then g: back to following from scrolled; new rows are selected as they arrive.
        try tmux.keys("j")
        try tmux.expectScreen("scrolled") { $0.split(separator: "\n").first?.contains("SCROLLED") == true }
        try tmux.keys("g")
        try tmux.expectScreen("g follows") {
            $0.contains("FOLLOWING") && self.selectedLine($0)?.contains("live0043") == true
        }
        try await record(44...44)
        try tmux.expectScreen("the newest row selected") { self.selectedLine($0)?.contains("live0044") == true }

        try tmux.keys("q")
        try tmux.expectScreen("clean exit") { $0.contains("EXITED=0") }
        await recorder.close()
    }
}
