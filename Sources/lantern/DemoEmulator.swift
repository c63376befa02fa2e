// The demo's `lantern emulate` child: spawned in its own process group (so the terminal's Ctrl-C
// reaches only the demo and the dashboard, and the demo decides how the sandbox spins down), its
// output copied to a log file, and its invoke URL read from the line it prints at start-up.

import Foundation
import Subprocess
import SystemPackage  // FilePath, which Subprocess uses for executables (swift-system, a Subprocess dependency)
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A running `lantern emulate` child.
final class DemoEmulator: Sendable {
    /// The RIE invoke path, appended when the emulator prints only `http://host:port`.
    static let invokePath = "/2015-03-31/functions/function/invocations"

    private enum Life {
        case notStarted
        case running(pid: pid_t)
        case exited
    }

    private let executable: String
    private let arguments: [String]
    private let environment: [String: String]
    private let logFile: URL
    private let life = Mutex(Life.notStarted)
    private let urls: AsyncStream<String>
    private let urlSink: AsyncStream<String>.Continuation

    init(executable: String, arguments: [String], environment: [String: String], logFile: URL) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logFile = logFile
        (urls, urlSink) = AsyncStream.makeStream(of: String.self)
    }

    /// Runs the emulator until it exits; returns its termination status.
    func run() async throws -> TerminationStatus {
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil),
            let log = try? FileHandle(forWritingTo: logFile)
        else {
            urlSink.finish()
            throw DemoError(.fileUnwritable, "cannot write the emulator log \(logFile.path)")
        }
        defer { try? log.close() }
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.send(signal: .terminate, allowedDurationToNextStep: .seconds(10))]
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in environment { overrides[Environment.Key(stringLiteral: key)] = value }
        let sink = urlSink
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments),
                environment: .inherit.updating(overrides), platformOptions: options,
                input: .none, output: .sequence, error: .combinedWithOutput
            ) { execution in
                life.withLock { $0 = .running(pid: execution.processIdentifier.value) }
                var announced = false
                for try await line in execution.standardOutput.strings() {
                    try? log.write(contentsOf: Data((line + "\n").utf8))
                    if !announced, let url = Self.invokeURL(in: line) {
                        announced = true
                        sink.yield(url)
                    }
                }
            }
            life.withLock { $0 = .exited }
            sink.finish()
            return result.terminationStatus
        } catch {
            life.withLock { $0 = .exited }
            sink.finish()
            throw error
        }
    }

    /// Waits for the invoke URL the emulator announces; throws if it exits first or takes longer than `timeout`.
    func invokeURL(timeout: Duration) async throws -> String {
        let urls = self.urls
        let logPath = logFile.path
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                for await url in urls { return url }
                throw DemoError(.emulatorNotReady, "lantern emulate exited before it was ready; its output is in \(logPath)")
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let url = first else {
                throw DemoError(.emulatorNotReady, "lantern emulate did not announce its invoke address within \(timeout); its output is in \(logPath)")
            }
            return url
        }
    }

    /// Sends `signal` (SIGTERM: spin down) to the emulator, if it is still running.
    func send(_ signal: Int32) {
        life.withLock { life in
            if case .running(let pid) = life { _ = kill(pid, signal) }
        }
    }

    /// The invoke URL in a start-up line such as `invoke http://127.0.0.1:9000/2015-03-31/functions/function/invocations`.
    static func invokeURL(in line: String) -> String? {
        guard line.range(of: "invoke", options: .caseInsensitive) != nil,
            let start = line.range(of: "http://")
        else { return nil }
        let url = String(line[start.lowerBound...].prefix { !$0.isWhitespace && $0 != "\"" && $0 != "," })
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else { return nil }
        if parsed.path.contains("/functions/") { return url }
        return "http://\(host):\(port)\(invokePath)"
    }
}
