import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// A private tmux server (its own socket) with one shell pane, for driving the real `lantern dash`.
final class TmuxSession {
    let socket = "lantern-test-\(UInt32.random(in: 0...UInt32.max))"
    let target = "dash"

    init(width: Int = 120, height: Int = 40) throws {
        // A plain shell with a fixed prompt and a UTF-8 locale, so captures are predictable.
        let shell = "env LANG=C.UTF-8 LC_ALL=C.UTF-8 PS1='$ ' sh"
        try tmux(["-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)", "-s", target, shell])
    }

    deinit { _ = try? tmux(["kill-server"]) }

    /// Runs a command line in the pane's shell, then prints its exit status (`EXITED=n`) when it ends.
    func run(_ commandLine: String) throws {
        try type(commandLine + "; echo EXITED=$?")
        try keys("Enter")
    }

    /// Types text literally.
    func type(_ text: String) throws { try tmux(["send-keys", "-t", target, "-l", text]) }

    /// Sends key names (`Enter`, `Escape`, `Tab`, `C-c`, `j`...).
    func keys(_ names: String...) throws { try tmux(["send-keys", "-t", target] + names) }

    /// The visible pane as text.
    func capture() throws -> String { try tmux(["capture-pane", "-p", "-t", target]) }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", target, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Polls the pane until `condition` holds; returns the capture and the time it took, or nil on timeout.
    @discardableResult
    func waitFor(timeout: Duration = .seconds(10), _ condition: (String) -> Bool) throws -> (String, Duration)? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            let screen = try capture()
            if condition(screen) { return (screen, clock.now - start) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    /// Like `waitFor`, but records an issue with the last screen when the condition never held.
    @discardableResult
    func expectScreen(_ what: String, timeout: Duration = .seconds(10), _ condition: (String) -> Bool) throws
        -> (String, Duration)
    {
        if let found = try waitFor(timeout: timeout, condition) { return found }
        let last = (try? capture()) ?? "<no capture>"
        throw TmuxError(message: "timed out waiting for \(what); screen:\n\(last)")
    }

    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        // system(3) rather than Process: the tmux server daemon inherits the client's descriptors and is
        // reparented, which Foundation's Process waiting does not cope with here; the shell waits for the client only.
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let words = ["tmux", "-u", "-L", socket] + arguments
        let line = words.map(Self.quote).joined(separator: " ") + " </dev/null >" + Self.quote(outputURL.path) + " 2>&1"
        let raw = system(line)
        let status = (raw >> 8) & 0xFF
        let data = (try? Data(contentsOf: outputURL)) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        if raw == -1 || status != 0 {
            throw TmuxError(message: "tmux \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}

extension TmuxSession {
    /// Single-quotes a word for sh.
    static func quote(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

struct TmuxError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The built CLI, quoted for the shell.
var lanternCommand: String { "'" + TestPaths.binary("lantern").path + "'" }

/// Milliseconds of a Duration, for reports.
func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}
