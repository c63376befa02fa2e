import Foundation
import LanternStore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `lantern dash` in a real terminal: tmux runs the built binary, the test types keys and reads the pane.
@Suite("Dashboard in tmux", .serialized)
struct TerminalTests {
    /// The line the cursor is on (the list marks it with `>`).
    func selectedLine(_ screen: String) -> String? {
        screen.split(separator: "\n").first { $0.hasPrefix(">") }.map(String.init)
    }

    @Test func liveDashboardFollowsNavigatesAndRestoresTheTerminal() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tmux")
        let path = try await StoreFixture.known(in: dir)
        let tmux = try TmuxSession(width: 120, height: 40)
        try tmux.run("\(lanternCommand) dash --db '\(path)'")

        // Header and rows.
        var (screen, _) = try tmux.expectScreen("header and rows") {
            $0.contains("Lantern dash") && $0.contains("eeee0005") && $0.contains("success 2")
        }
        #expect(screen.contains("[1 Invocations]"))
        #expect(screen.contains("checkout-fn"))
        #expect(screen.contains("FOLLOWING"))
        #expect(selectedLine(screen)?.contains("eeee0005") == true)

        // A record appended by the Recorder appears within a second.
        let recorder = try Recorder(path: path)
        var live = StoreFixture.plain(6)
        live.requestID = "ffff0006-live"
        live.invokedAt = StoreFixture.base + 6_000_000
        recorder.record(.invocation(live))
        try await recorder.flush()
        let (_, appeared) = try tmux.expectScreen("the appended row") { $0.contains("ffff0006") }
        print("dash: appended row on screen \(milliseconds(appeared)) ms after the Recorder's flush returned")
        #expect(appeared < .seconds(2), "appended row took \(appeared)")

        // Navigate: j j selects the third row and stops following.
        try tmux.keys("j", "j")
        (screen, _) = try tmux.expectScreen("selection on dddd0004") {
            self.selectedLine($0)?.contains("dddd0004") == true
        }
        #expect(screen.contains("SCROLLED"))

        // Scrolled: a new row shows on top, and the selection stays on its row.
        var scrolled = StoreFixture.plain(7)
        scrolled.requestID = "gggg0007-scrolled"
        scrolled.invokedAt = StoreFixture.base + 7_000_000
        recorder.record(.invocation(scrolled))
        try await recorder.flush()
        (screen, _) = try tmux.expectScreen("the row that arrived while scrolled") { $0.contains("gggg0007") }
        #expect(selectedLine(screen)?.contains("dddd0004") == true)

        // Detail and back.
        try tmux.keys("Enter")
        (screen, _) = try tmux.expectScreen("detail") { $0.contains("Timeline") }
        #expect(screen.contains("Invocation dddd0004-timeout-timeout"))
        #expect(screen.contains("INVOKE received") && screen.contains("released"))
        try tmux.keys("Escape")
        try tmux.expectScreen("list after Esc") { !$0.contains("Timeline") && $0.contains("[1 Invocations]") }

        // g follows again: the newest row is selected.
        try tmux.keys("g")
        (screen, _) = try tmux.expectScreen("follow resumed") { $0.contains("FOLLOWING") && $0.contains("gggg0007") }
        #expect(selectedLine(screen)?.contains("gggg0007") == true)

        // Tabs: Tab, digits and Shift-Tab.
        try tmux.keys("Tab")
        try tmux.expectScreen("Proxies tab") { $0.contains("[2 Proxies]") && $0.contains("txn-proxy-error") }
        try tmux.keys("3")
        try tmux.expectScreen("Shutdowns tab") { $0.contains("[3 Shutdowns]") && $0.contains("spindown") }
        try tmux.keys("BTab")
        try tmux.expectScreen("back to Proxies") { $0.contains("[2 Proxies]") }
        try tmux.keys("6")
        try tmux.expectScreen("Events tab") { $0.contains("[6 Events]") && $0.contains("registered") }
        try tmux.keys("1")
        try tmux.expectScreen("Invocations tab") { $0.contains("[1 Invocations]") && $0.contains("aaaa0001") }

        // Search with / and n.
        try tmux.keys("/")
        try tmux.type("HandledError")
        try tmux.expectScreen("search prompt") { $0.contains("/HandledError_") }
        try tmux.keys("Enter")
        try tmux.expectScreen("search match selected") { self.selectedLine($0)?.contains("bbbb0002") == true }
        try tmux.keys("n")
        try tmux.expectScreen("no further match") { $0.contains("no older match") }

        // Filter: f, s twice (success, then error), Esc.
        try tmux.keys("f")
        try tmux.expectScreen("filter menu") { $0.contains("Filter invocations") }
        try tmux.keys("s", "s", "Escape")
        (screen, _) = try tmux.expectScreen("filtered list") {
            $0.contains("filter: status=error") && !$0.contains("Filter invocations") && $0.contains("bbbb0002")
        }
        #expect(!screen.contains("aaaa0001"))
        #expect(screen.contains("bbbb0002"))
        try tmux.keys("f", "x", "Escape")
        try tmux.expectScreen("filter cleared") {
            !$0.contains("filter:") && !$0.contains("Filter invocations") && $0.contains("aaaa0001")
        }

        // Help overlay lists the keys; any key closes it.
        try tmux.keys("?")
        try tmux.expectScreen("help") { $0.contains("Keys") && $0.contains("pause / follow") }
        try tmux.keys("Escape")
        try tmux.expectScreen("help closed") { !$0.contains("pause / follow") && $0.contains("aaaa0001") }

        // Resize: the frame is redrawn at the new size (the follow marker sits at the right edge).
        func fits(_ screen: String, width: Int, height: Int) -> Bool {
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.count >= height, lines[0].contains("Lantern dash") else { return false }
            return (width - 2...width).contains(lines[0].count) && lines[height - 1].contains("j/k move")
                && lines.allSatisfy { $0.count <= width }
        }
        try tmux.resize(width: 90, height: 24)
        try tmux.expectScreen("resized to 90x24") { fits($0, width: 90, height: 24) && $0.contains("[1 Invocations]") }
        try tmux.resize(width: 130, height: 30)
        try tmux.expectScreen("resized to 130x30") { fits($0, width: 130, height: 30) && $0.contains("gggg0007") }

        // q quits and the terminal is back: the dashboard is gone, the shell reports a clean exit.
        try tmux.keys("q")
        (screen, _) = try tmux.expectScreen("shell after quit") { $0.contains("EXITED=0") }
        #expect(!screen.contains("Lantern dash"))
        #expect(!screen.contains("[1 Invocations]"))
        await recorder.close()
    }

    @Test func waitsForAStoreThatDoesNotExistYet() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tmux")
        let path = dir.appendingPathComponent("later.db").path
        let tmux = try TmuxSession(width: 120, height: 30)
        try tmux.run("\(lanternCommand) dash --db '\(path)'")
        try tmux.expectScreen("waiting message") { $0.contains("No store at") && $0.contains("later.db") }
        let recorder = try Recorder(path: path)
        recorder.record(.invocation(StoreFixture.plain(1)))
        try await recorder.flush()
        try tmux.expectScreen("the store once it exists") { $0.contains("req-0000") && $0.contains("success 1") }
        try tmux.keys("q")
        try tmux.expectScreen("clean exit") { $0.contains("EXITED=0") }
        await recorder.close()
    }

    @Test func emptyStoreSaysWhatToDo() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tmux")
        let path = dir.appendingPathComponent("empty.db").path
        let recorder = try Recorder(path: path)
        await recorder.close()
        let tmux = try TmuxSession(width: 120, height: 30)
        try tmux.run("LANTERN_DB='\(path)' \(lanternCommand) dash")
        try tmux.expectScreen("empty store message") { $0.contains("No invocations yet") && $0.contains("empty.db") }
        try tmux.keys("q")
        try tmux.expectScreen("clean exit") { $0.contains("EXITED=0") }
    }

    @Test(arguments: [("INT", 130), ("TERM", 143), ("SEGV", 139), ("ABRT", 134)])
    func signalsRestoreTheTerminal(signal: String, status: Int) async throws {
        let dir = try TestPaths.temporaryDirectory("dash-tmux")
        let path = try await StoreFixture.known(in: dir)
        let pidFile = dir.appendingPathComponent("pid").path
        let tmux = try TmuxSession(width: 120, height: 30)
        try tmux.run("sh -c \"echo \\$\\$ > \(pidFile); exec \(lanternCommand) dash --db \(path)\"")
        try tmux.expectScreen("dashboard up") { $0.contains("Lantern dash") && $0.contains("eeee0005") }
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        if signal == "INT" {
            try tmux.keys("C-c")
        } else {
            let number: Int32 = ["TERM": SIGTERM, "SEGV": SIGSEGV, "ABRT": SIGABRT][signal]!
            #expect(kill(pid, number) == 0)
        }
        let (screen, _) = try tmux.expectScreen("shell after SIG\(signal)") { $0.contains("EXITED=\(status)") }
        #expect(!screen.contains("Lantern dash"), "the alternate screen is gone after SIG\(signal)")
        // The terminal is usable again: echo works (cooked mode, echo on).
        try tmux.run("echo back-to-normal")
        try tmux.expectScreen("shell echo") { $0.contains("back-to-normal\n") || $0.contains("back-to-normal\r") }
    }

    @Test func badStoresExitNonZeroWithAClearMessage() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-bad")
        let text = dir.appendingPathComponent("notes.db").path
        try "not a database\n".write(toFile: text, atomically: true, encoding: .utf8)
        let future = try await NewerStore.make(in: dir)
        for (path, expected) in [(text, "not a SQLite database"), (future, "newer")] {
            let process = Process()
            process.executableURL = TestPaths.binary("lantern")
            process.arguments = ["dash", "--db", path]
            let err = Pipe()
            process.standardError = err
            process.standardOutput = Pipe()
            try process.run()
            let data = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let message = String(decoding: data, as: UTF8.self)
            #expect(process.terminationStatus != 0)
            #expect(message.contains(expected), "stderr: \(message)")
            #expect(message.contains(path))
        }
    }
}
