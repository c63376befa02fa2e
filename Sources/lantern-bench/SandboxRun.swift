// One `lantern emulate` child for the sandbox benchmarks: the sample function as the runtime, one
// extensions folder (empty, the no-op extension, or the collector), stdout in a log file that the
// benchmarks parse for the emulator's REPORT, EXTENSION and SHUTDOWN lines.

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Which extension runs beside the function.
enum ExtensionSetup: String, Sendable, CaseIterable, Codable {
    /// No extension at all.
    case none
    /// `lantern-noop-extension`: registers and loops on `next` (the floor).
    case noop
    /// `lantern-extension`, with the agent imitation in the function sending to it.
    case collector

    /// The file name in the extensions folder (Lambda registers extensions by file name).
    var fileName: String? {
        switch self {
        case .none: nil
        case .noop: "lantern-noop-extension"
        case .collector: "lantern-extension"
        }
    }

    var label: String {
        switch self {
        case .none: "no extension"
        case .noop: "no-op extension"
        case .collector: "lantern-extension"
        }
    }
}

/// How `lantern emulate` runs the sandbox of a benchmark. The default is the emulator's: the runtime and the
/// extensions frozen (SIGSTOP) while they all wait in `next`, and, when lantern-bench runs as root, run as the
/// unprivileged sandbox user (uid 993 / gid 990). `--no-freeze --keep-root` is the emulator before 2026-12-07.
struct SandboxSettings: Sendable, Codable, Equatable {
    /// Off: `lantern emulate --no-freeze`.
    var freeze = true
    /// On: `lantern emulate --keep-root` (only matters when lantern-bench runs as root).
    var keepRoot = false

    /// What the benchmarks append to `lantern emulate`.
    var emulateArguments: [String] { (freeze ? [] : ["--no-freeze"]) + (keepRoot ? ["--keep-root"] : []) }

    /// The lantern-bench flags that give these settings ("" for the default).
    var flags: String { emulateArguments.joined(separator: " ") }
}

/// `--no-freeze` and `--keep-root` of every sandbox scenario, passed on to `lantern emulate`.
struct SandboxOptions: ParsableArguments {
    @Flag(name: .customLong("no-freeze"), help: "Run lantern emulate with --no-freeze: the runtime and extensions are never frozen between invokes.")
    var noFreeze = false
    @Flag(name: .customLong("keep-root"), help: "Run lantern emulate with --keep-root: as root, the runtime and extensions stay root (not uid 993).")
    var keepRoot = false

    var settings: SandboxSettings { SandboxSettings(freeze: !noFreeze, keepRoot: keepRoot) }
}

/// The executables the sandbox benchmarks start, found next to `lantern-bench` (build them all first).
struct BenchBinaries: Sendable {
    var lantern: String
    var collector: String
    var noop: String

    /// The binaries beside lantern-bench; `collector` replaces lantern-extension (e.g. the layer's binary).
    static func locate(collector: String? = nil) throws -> BenchBinaries {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let dir = URL(fileURLWithPath: exe).deletingLastPathComponent().path
        let found = BenchBinaries(
            lantern: dir + "/lantern", collector: dir + "/lantern-extension", noop: dir + "/lantern-noop-extension")
        for path in [found.lantern, found.collector, found.noop] where !FileManager.default.isExecutableFile(atPath: path) {
            throw BenchFailure("\(path) is missing: build every product first (swift build -c release)")
        }
        guard let collector else { return found }
        guard FileManager.default.isExecutableFile(atPath: collector) else { throw BenchFailure("\(collector) is not executable") }
        var chosen = found
        chosen.collector = collector
        return chosen
    }

    func path(of setup: ExtensionSetup) -> String? {
        switch setup {
        case .none: nil
        case .noop: noop
        case .collector: collector
        }
    }
}

/// A running `lantern emulate`.
final class SandboxRun {
    let process: Process
    let logPath: String
    let workDir: String
    let invokeURL: String
    /// The agent receiver port handed to the collector and the agent imitation.
    let receiverPort: Int
    let settings: SandboxSettings

    private init(process: Process, logPath: String, workDir: String, invokeURL: String, receiverPort: Int, settings: SandboxSettings) {
        self.process = process
        self.logPath = logPath
        self.workDir = workDir
        self.invokeURL = invokeURL
        self.receiverPort = receiverPort
        self.settings = settings
    }

    /// Starts the emulator (with `--eager-init`, so init runs before the first invoke) and waits for its address.
    static func start(
        _ binaries: BenchBinaries, setup: ExtensionSetup, apmServerURL: String?, extraEnvironment: [String: String] = [:],
        settings: SandboxSettings = SandboxSettings(), emulateArguments: [String] = []
    ) async throws -> SandboxRun {
        let work = NSTemporaryDirectory() + "lantern-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let extensions = work + "/extensions"
        try FileManager.default.createDirectory(atPath: extensions, withIntermediateDirectories: true)
        if let name = setup.fileName, let target = binaries.path(of: setup) {
            try FileManager.default.createSymbolicLink(atPath: extensions + "/" + name, withDestinationPath: target)
        }
        let receiverPort = try await freePort()
        let readyFile = work + "/ready.json"
        let logPath = work + "/emulator.log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else { throw BenchFailure("cannot create \(logPath)") }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaries.lantern)
        process.arguments = [
            "emulate", "--address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--extensions", extensions,
            "--timeout", "10", "--function-name", "lantern-bench", "--eager-init", "--quiet", "--ready-file", readyFile,
        ] + settings.emulateArguments + emulateArguments + ["--", binaries.lantern, "sample-function"]
        var environment = ProcessInfo.processInfo.environment
        environment["ELASTIC_APM_DATA_RECEIVER_SERVER_PORT"] = String(receiverPort)
        environment["ELASTIC_APM_LAMBDA_APM_SERVER"] = apmServerURL
        environment["ELASTIC_APM_LOG_LEVEL"] = "warn"
        environment["LANTERN_DB"] = work + "/lantern.db"
        environment["LANTERN_DEMO_AGENT"] = setup == .collector ? "on" : "off"
        for (key, value) in extraEnvironment { environment[key] = value }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()

        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let data = FileManager.default.contents(atPath: readyFile), !data.isEmpty,
               let ready = try? JSONDecoder().decode(ReadyFile.self, from: data) {
                return SandboxRun(
                    process: process, logPath: logPath, workDir: work, invokeURL: ready.invoke, receiverPort: receiverPort,
                    settings: settings)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        process.terminate()
        throw BenchFailure("lantern emulate did not start; its output: \(String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self).suffix(2000))")
    }

    private struct ReadyFile: Decodable {
        var invoke: String
    }

    /// How the emulator says it runs the sandbox ("sandbox runs as uid 993 / gid 990, frozen between
    /// invocations"): the line it prints just after the ready file, waited for up to a second.
    var sandboxDescription: String {
        get async {
            let prefix = "lantern emulate: "
            let deadline = ContinuousClock.now + .seconds(1)
            while true {
                if let line = lines(prefix + "sandbox runs as").first { return String(line.dropFirst(prefix.count)) }
                if ContinuousClock.now > deadline || !process.isRunning {
                    return "sandbox: no line from lantern emulate (\(settings.flags.isEmpty ? "defaults" : settings.flags))"
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// The emulator's output so far.
    var log: String { String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self) }

    /// Lines of the log that start with `prefix`.
    func lines(_ prefix: String) -> [String] {
        log.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map(String.init)
    }

    /// Whether an init failed: the emulator prints INIT_REPORT only then (a child whose launch hung, say, times
    /// init out after 10 s). No benchmark expects one, so the figures of such a sandbox are not taken.
    var initFailed: Bool { !lines("INIT_REPORT").isEmpty }

    /// Waits until the log has `count` lines starting with `prefix`; throws `SandboxInitFailed` as soon as an
    /// init fails.
    @discardableResult
    func waitForLines(_ prefix: String, count: Int, timeout: Duration = .seconds(60)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = lines(prefix)
            if found.count >= count { return found }
            if initFailed { throw SandboxInitFailed(logTail: String(log.suffix(2000))) }
            if ContinuousClock.now > deadline || !process.isRunning {
                throw BenchFailure("waited for \(count) '\(prefix)' lines, got \(found.count); log tail: \(log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// One invoke; returns the caller's latency in ms.
    func invoke(_ client: HTTPClient, body: String = #"{"kind":"success","sleepMs":0}"#) async throws -> Double {
        try await Self.invoke(invokeURL, client, body: body)
    }

    /// One invoke of the sandbox at `url` (for a task of its own); returns the caller's latency in ms.
    static func invoke(_ url: String, _ client: HTTPClient, body: String) async throws -> Double {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        let start = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(30))
        let payload = try await response.body.collect(upTo: 1 << 20)
        let elapsed = ContinuousClock.now - start
        guard response.status == .ok else {
            throw BenchFailure("invoke answered \(response.status.code): \(String(buffer: payload))")
        }
        // Lambda answers a failed invoke (an init timeout too) with 200 and this header: not a measurement.
        if let kind = response.headers.first(name: "X-Amz-Function-Error") {
            throw BenchFailure("invoke failed (\(kind)): \(String(buffer: payload))")
        }
        return elapsed.milliseconds
    }

    /// SIGTERM (SHUTDOWN spindown), then waits for the emulator to exit; the log stays readable. A child the
    /// emulator left behind (one whose launch hung before its exec, or still frozen) is killed after it.
    func stop() async {
        var children = childProcesses()
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        if process.isRunning {
            children.merge(childProcesses()) { first, _ in first }
            kill(process.processIdentifier, SIGKILL)
            let killed = ContinuousClock.now + .seconds(2)
            while process.isRunning, ContinuousClock.now < killed { try? await Task.sleep(for: .milliseconds(5)) }
        }
        // The same process (same start time) under another parent now: the emulator's orphan.
        for (pid, started) in children {
            guard let fields = procStatFields(pid), fields.count > 19, fields[19] == started,
                  Int32(fields[1]) != process.processIdentifier else { continue }
            kill(pid, SIGKILL)
        }
    }

    /// The emulator's children now: pid → start time (field 22 of proc(5), 19 after the command name).
    private func childProcesses() -> [pid_t: Substring] {
        let parent = process.processIdentifier
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var found: [pid_t: Substring] = [:]
        for entry in entries {
            guard let pid = Int32(entry), let fields = procStatFields(pid), fields.count > 19, Int32(fields[1]) == parent
            else { continue }
            found[pid] = fields[19]
        }
        return found
    }

    /// Removes the work folder, unless LANTERN_BENCH_KEEP is set (then its store and log stay for `lantern query`).
    func removeFiles() {
        if ProcessInfo.processInfo.environment["LANTERN_BENCH_KEEP"] != nil {
            print("  kept \(workDir) (store: lantern.db, emulator log: emulator.log)")
            return
        }
        try? FileManager.default.removeItem(atPath: workDir)
    }

    /// The pid of the running extension `fileName` (a child of the emulator).
    func extensionPID(_ fileName: String) -> pid_t? {
        let parent = process.processIdentifier
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            // The parent pid is field 4 of proc(5), 1 after the command name.
            guard let pid = Int32(entry), let fields = procStatFields(pid), fields.count > 2, Int32(fields[1]) == parent
            else { continue }
            if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"), exe.hasSuffix("/" + fileName) {
                return pid
            }
            // A wrapper that execs a tool around the extension (valgrind, as scripts/layer-orderfile.sh does):
            // the extension's path is among the arguments.
            if let arguments = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
               arguments.split(separator: "\0").contains(where: { $0.hasSuffix("/" + fileName) }) {
                return pid
            }
        }
        return nil
    }
}

/// A sandbox whose init failed (INIT_REPORT in the emulator's log): the benchmark retries or gives up.
struct SandboxInitFailed: Error, CustomStringConvertible {
    var logTail: String
    var description: String { "lantern emulate: init failed; log tail: \(logTail)" }
}

/// Runs `body` up to `attempts` times while it fails with `SandboxInitFailed`; returns its result and how many
/// attempts failed that way (reported with the figures).
func retryingFailedInit<T>(attempts: Int = 4, _ body: () async throws -> T) async throws -> (T, failedInits: Int) {
    var failed = 0
    while true {
        do {
            return (try await body(), failed)
        } catch let error as SandboxInitFailed {
            failed += 1
            if failed >= attempts { throw error }
            print("  (init failed, attempt \(failed) of \(attempts), made again: \(error.logTail.split(separator: "\n").last ?? ""))")
        }
    }
}

/// A field `name: X ms` of a tab-separated console line.
func field(_ name: String, in line: String) -> Double? {
    guard let part = line.split(separator: "\t").first(where: { $0.hasPrefix(name + ": ") }) else { return nil }
    return Double(part.dropFirst(name.count + 2).prefix { $0.isNumber || $0 == "." })
}

/// The number before ` ms` in lines like `EXTENSION x ready 12.345 ms after launch`.
func millisecondsFigure(in line: String) -> Double? {
    let words = line.split(separator: " ")
    guard let index = words.firstIndex(of: "ms"), index > 0 else { return nil }
    return Double(words[index - 1])
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses): index 0 is
/// the state, field 3 of proc(5).
func procStatFields(_ pid: pid_t) -> [Substring]? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ")
}
