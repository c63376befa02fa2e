import Foundation
import Subprocess
import SystemPackage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a child ended.
enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    case launchFailed(String)

    /// Lambda's wording: `exit status 7`, `signal: killed`.
    var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let sig): "signal: \(Self.signalName(sig))"
        case .launchFailed(let why): "launch failed: \(why)"
        }
    }

    static func signalName(_ sig: Int32) -> String {
        switch sig {
        case SIGKILL: "killed"
        case SIGTERM: "terminated"
        case SIGSEGV: "segmentation fault"
        case SIGABRT: "aborted"
        case SIGINT: "interrupt"
        default: "\(sig)"
        }
    }
}

/// A runtime or extension process: spawned with swift-subprocess in its own process group (so a kill reaches the
/// processes it started too), its stdout and stderr split into lines for the caller.
final class ChildProcess: Sendable {
    private enum Life {
        case starting
        case running(pid_t)
        case exited(ChildExit)
    }

    let label: String
    private let life = Mutex(Life.starting)
    private let exitWaiters = Mutex<[CheckedContinuation<ChildExit, Never>]>([])

    private init(label: String) { self.label = label }

    /// The process id while it runs.
    var pid: pid_t? {
        life.withLock { if case .running(let pid) = $0 { return pid } else { return nil } }
    }

    /// How it ended, if it has.
    var exit: ChildExit? {
        life.withLock { if case .exited(let e) = $0 { return e } else { return nil } }
    }

    /// Starts `arguments[0]` and returns once it runs (or has failed to start: see `exit`).
    /// `onLine` gets every output line; `onExit` is called once, after the last line.
    static func launch(
        label: String, arguments: [String], environment: [String: String], workingDirectory: String?,
        user: SandboxUser? = nil,
        onLine: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (ChildExit) -> Void
    ) async -> ChildProcess {
        let child = ChildProcess(label: label)
        // A relative path means relative to where the emulator was started, even when the child runs elsewhere.
        var program = arguments[0]
        if program.contains("/"), !program.hasPrefix("/") {
            program = URL(fileURLWithPath: program, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path
        }
        var argv = [program] + arguments.dropFirst()
        if let user {
            if program.hasPrefix("/"), !user.canExecute(program) {
                return child.failedToLaunch(
                    "permission denied running \(program) as the sandbox user (\(user)): it and every folder above it must be "
                        + "readable and searchable by that user, as /var/task and /opt are in Lambda (or run lantern emulate with --keep-root)",
                    onExit: onExit)
            }
            // The switch happens in a freshly exec'd setpriv, not in swift-subprocess's forked child: glibc's
            // setgroups/setuid there wait on the parent's other threads, which a forked child does not have, and
            // the launch hung now and then (seen under load).
            guard let setpriv = SandboxUser.setprivPath else {
                return child.failedToLaunch(
                    "running children as the sandbox user (\(user)) needs setpriv (util-linux); install it or run lantern emulate with --keep-root",
                    onExit: onExit)
            }
            argv = [setpriv] + user.setprivArguments + ["--"] + argv
        }
        let executable: Executable = argv[0].contains("/") ? .path(FilePath(argv[0])) : .name(argv[0])
        var options = PlatformOptions()
        options.processGroupID = 0
        let env = Environment.custom(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }))
        let configuration = Configuration(
            executable: executable, arguments: Arguments(Array(argv.dropFirst())), environment: env,
            workingDirectory: workingDirectory.map { FilePath($0) }, platformOptions: options)

        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            let startedOnce = OneShot(started)
            Task {
                var ending: ChildExit
                do {
                    let result = try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) { execution in
                        child.life.withLock { $0 = .running(execution.processIdentifier.value) }
                        startedOnce.fire()
                        await withTaskGroup(of: Void.self) { group in
                            group.addTask { await Self.readLines(execution.standardOutput, onLine) }
                            group.addTask { await Self.readLines(execution.standardError, onLine) }
                        }
                    }
                    switch result.terminationStatus {
                    case .exited(let code): ending = .exited(code)
                    case .signaled(let sig): ending = .signaled(sig)
                    }
                } catch {
                    ending = .launchFailed("\(error)")
                }
                child.finish(ending)
                startedOnce.fire()
                onExit(ending)
            }
        }
        return child
    }

    /// A child that could not be started: it has ended, and `onExit` hears why (as a failed spawn would say).
    private func failedToLaunch(_ why: String, onExit: @escaping @Sendable (ChildExit) -> Void) -> ChildProcess {
        let ending = ChildExit.launchFailed(why)
        finish(ending)
        Task { onExit(ending) }
        return self
    }

    private func finish(_ ending: ChildExit) {
        life.withLock { $0 = .exited(ending) }
        let waiters = exitWaiters.withLock { w in defer { w = [] }; return w }
        for waiter in waiters { waiter.resume(returning: ending) }
    }

    /// Waits until the process has ended.
    func waitForExit() async -> ChildExit {
        await withCheckedContinuation { (c: CheckedContinuation<ChildExit, Never>) in
            // Checked and queued under the waiters' lock, which `finish` also takes after setting `life`.
            let done: ChildExit? = exitWaiters.withLock { w in
                if let e = self.exit { return e }
                w.append(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Sends `signal` to the child's process group (the child and what it started). No-op once it has ended.
    /// The pid stays reserved until swift-subprocess reaps it after `run` returns, which is also when `life` changes,
    /// so the signal cannot reach a recycled pid.
    func send(_ signal: Int32) {
        guard let pid else { return }
        if kill(-pid, signal) != 0 { _ = kill(pid, signal) }
    }

    /// Splits a byte stream into lines (LF, CR LF), holding back at most 256 KiB of an unfinished line.
    private static func readLines(_ stream: SubprocessOutputSequence, _ onLine: @Sendable (String) -> Void) async {
        var pending: [UInt8] = []
        do {
            for try await buffer in stream {
                buffer.withUnsafeBytes { raw in pending.append(contentsOf: raw) }
                var start = 0
                while let nl = pending[start...].firstIndex(of: 10) {
                    var end = nl
                    if end > start, pending[end - 1] == 13 { end -= 1 }
                    onLine(String(decoding: pending[start..<end], as: UTF8.self))
                    start = nl + 1
                }
                pending.removeFirst(start)
                if pending.count > 256 * 1024 {
                    onLine(String(decoding: pending, as: UTF8.self))
                    pending.removeAll()
                }
            }
        } catch {
            // The pipe broke: the child is gone; its last partial line follows.
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
    }
}

/// Resumes a continuation at most once, from whichever path gets there first.
private final class OneShot: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = Mutex(continuation) }

    func fire() {
        let c = continuation.withLock { c in defer { c = nil }; return c }
        c?.resume()
    }
}
