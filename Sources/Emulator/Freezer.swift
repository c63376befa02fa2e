#if canImport(Glibc)
import Glibc
#endif

/// Lambda's freeze: while the runtime and every extension wait in `next`, none of their threads, timers or sockets
/// run. Done with SIGSTOP / SIGCONT to each child's process group (the child and what it started), which needs no
/// privileges and works wherever the emulator runs; Lambda itself uses the cgroup freezer, which differs only in
/// what `ps` shows. Owned by the `Sandbox` actor.
struct Freezer {
    /// The process groups stopped now; empty while thawed.
    private(set) var frozen: [pid_t] = []

    var isFrozen: Bool { !frozen.isEmpty }

    /// Stops every group in `groups` (leaders' pids).
    mutating func freeze(_ groups: [pid_t]) {
        guard !isFrozen else { return }
        for group in groups where group > 0 {
            if kill(-group, SIGSTOP) == 0 { frozen.append(group) }
        }
    }

    /// Continues whatever `freeze` stopped. A group that exited meanwhile is skipped by the kernel.
    mutating func thaw() {
        for group in frozen { _ = kill(-group, SIGCONT) }
        frozen = []
    }
}
