import Foundation
import LanternStore
import Testing
import TestSupport

/// A Managed Instances store in a real terminal (issue 14): the header's concurrency and the in-flight column
/// through ncurses, and the overlap in the detail after Enter; an invocation reported while watching lowers the
/// in-flight count.
extension TerminalTests {
    @Test func managedInstancesInTheTerminal() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-lmi-tmux")
        let path = try await StoreFixture.managedInstances(in: dir)
        let tmux = try TmuxSession(width: 160, height: 30)
        try tmux.run("\(lanternCommand) dash --db '\(path)'")
        var (screen, _) = try tmux.expectScreen("LMI header and rows") {
            $0.contains("managed instances ×4") && $0.contains("in flight 1  peak 3") && $0.contains("lmi00005")
        }
        #expect(screen.contains("▆ 60s"), "the in-flight strip:\n\(screen)")
        #expect(selectedLine(screen)?.contains("×2") == true, "the newest row and its in-flight count:\n\(screen)")

        // The running invocation reports: nothing in flight any more.
        let recorder = try Recorder(path: path)
        var done = InvocationFact(requestID: StoreFixture.managedIDs[4])
        done.status = .success
        done.durationMs = 200
        done.flushReason = .report
        recorder.record(.invocation(done))
        try await recorder.flush()
        try tmux.expectScreen("in flight back to 0") { $0.contains("in flight 0  peak 3") && $0.contains("report 5") }

        // Open lmi00002 (fourth row): its concurrency and overlap.
        try tmux.keys("j", "j", "j", "Enter")
        // Wait for the whole overlap list: a capture can land while ncurses is still writing the frame's lines.
        (screen, _) = try tmux.expectScreen("the detail's overlap") {
            $0.contains("Invocation lmi00002") && $0.contains("2 other invocations ran at the same time")
                && $0.contains("lmi00003")
        }
        #expect(screen.contains("-100.0ms") && screen.contains("+150.0ms"), "\(screen)")

        try tmux.keys("q", "q")
        try tmux.expectScreen("clean exit") { $0.contains("EXITED=0") }
        await recorder.close()
    }
}
