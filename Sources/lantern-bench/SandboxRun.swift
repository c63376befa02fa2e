// One `lantern emulate` child for the sandbox benchmarks: the sample function as the runtime, one
// extensions folder (empty, the no-op extension, or the collector), stdout in a log file that the
// benchmarks parse for the emulator's REPORT, EXTENSION and SHUTDOWN lines.

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

    private init(process: Process, logPath: String, workDir: String, invokeURL: String, receiverPort: Int) {
        self.process = process
        self.logPath = logPath
        self.workDir = workDir
        self.invokeURL = invokeURL
        self.receiverPort = receiverPort
    }

    /// Starts the emulator (with `--eager-init`, so init runs before the first invoke) and waits for its address.
    static func start(
        _ binaries: BenchBinaries, setup: ExtensionSetup, apmServerURL: String?, extraEnvironment: [String: String] = [:]
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
            "--", binaries.lantern, "sample-function",
        ]
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
                return SandboxRun(process: process, logPath: logPath, workDir: work, invokeURL: ready.invoke, receiverPort: receiverPort)
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

    /// The emulator's output so far.
    var log: String { String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self) }

    /// Lines of the log that start with `prefix`.
    func lines(_ prefix: String) -> [String] {
        log.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map(String.init)
    }

    /// Waits until the log has `count` lines starting with `prefix`.
    @discardableResult
    func waitForLines(_ prefix: String, count: Int, timeout: Duration = .seconds(60)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = lines(prefix)
            if found.count >= count { return found }
            if ContinuousClock.now > deadline || !process.isRunning {
                throw BenchFailure("waited for \(count) '\(prefix)' lines, got \(found.count); log tail: \(log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// One invoke; returns the caller's latency in ms.
    func invoke(_ client: HTTPClient, body: String = #"{"kind":"success","sleepMs":0}"#) async throws -> Double {
        var request = HTTPClientRequest(url: invokeURL)
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        let start = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(30))
        let payload = try await response.body.collect(upTo: 1 << 20)
        let elapsed = ContinuousClock.now - start
        guard response.status == .ok else {
            throw BenchFailure("invoke answered \(response.status.code): \(String(buffer: payload))")
        }
        return elapsed.milliseconds
    }

    /// SIGTERM (SHUTDOWN spindown), then waits for the emulator to exit; the log stays readable.
    func stop() async {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
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
