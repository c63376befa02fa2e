import Foundation
import Synchronization

/// The emulator's stdout: START/END/REPORT lines and the children's output, one whole line at a time.
final class Console: Sendable {
    private let lock = Mutex(())
    let quiet: Bool

    init(quiet: Bool) { self.quiet = quiet }

    /// Writes one line (a newline is added).
    func line(_ text: String) {
        let data = Data((text + "\n").utf8)
        lock.withLock { _ in try? FileHandle.standardOutput.write(contentsOf: data) }
    }

    /// Echoes a child's line with its source as prefix, unless quiet.
    func child(_ source: String, _ text: String) {
        guard !quiet else { return }
        line("[\(source)] \(text)")
    }

    /// A note from the emulator itself, on stderr so stdout stays machine-readable.
    func note(_ text: String) {
        let data = Data(("lantern emulate: " + text + "\n").utf8)
        lock.withLock { _ in try? FileHandle.standardError.write(contentsOf: data) }
    }
}
