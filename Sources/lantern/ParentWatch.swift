// Children of `lantern demo` (the emulator, the dashboard) end with it. The demo sets LANTERN_PARENT_PID; the
// child polls getppid(): when the demo dies, even by SIGKILL, the child is re-parented and sees another pid.
// PR_SET_PDEATHSIG would not do: it fires when the *thread* that spawned the child exits, and Swift's concurrency
// threads come and go.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Calls `onOrphaned` once when this process's parent is no longer the one that started it.
enum ParentWatch {
    static let variable = "LANTERN_PARENT_PID"

    /// Starts watching when LANTERN_PARENT_PID names this process's parent; nil otherwise.
    static func fromEnvironment(every interval: Duration = .milliseconds(200), onOrphaned: @escaping @Sendable () -> Void) -> Task<Void, Never>? {
        guard let raw = ProcessInfo.processInfo.environment[variable], let parent = pid_t(raw), parent == getppid() else { return nil }
        return Task.detached {
            while !Task.isCancelled {
                if getppid() != parent {
                    onOrphaned()
                    return
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
