// Real processes for the end-to-end tests: `lantern emulate` running an awslambdaric + elastic-apm
// handler with `lantern-extension` in its extensions folder, the recording APM Server
// (Tests/peers/apm_server.py), and the store read back with Python's sqlite3. Every child runs in its
// own process group and is killed on every path.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child process, output captured to files. Started through a tiny Python exec wrapper that clears the
/// signal mask: Swift's concurrency threads block signals and a spawned child inherits that mask, so
/// without it SIGTERM would never reach the emulator. Foundation makes the child a process group leader.
final class Child: @unchecked Sendable {
    static let execWithSignals = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"

    // @unchecked: `process` is only touched by the test that owns this Child, one call at a time.
    let process = Process()
    let name: String
    let stdoutPath: String
    let stderrPath: String

    init(name: String, executable: String, arguments: [String], environment: [String: String],
         directory: URL, workingDirectory: URL? = nil) throws {
        self.name = name
        stdoutPath = directory.appendingPathComponent("\(name).stdout").path
        stderrPath = directory.appendingPathComponent("\(name).stderr").path
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = TestPaths.python
        process.arguments = ["-c", Self.execWithSignals, executable] + arguments
        process.environment = environment
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` to the whole process group.
    func signal(_ signal: Int32) {
        if pid > 0 { kill(-pid, signal) }
    }

    /// Waits up to `timeout` for the process to exit; true if it did.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    /// SIGTERM to the group, then SIGKILL to whatever is left after `grace`, including descendants that
    /// moved to their own process groups (the emulator's runtime and extensions).
    func stop(grace: Duration = .seconds(5)) async {
        let family = Self.descendants(of: pid)
        signal(SIGTERM)
        _ = await waitForExit(timeout: grace)
        signal(SIGKILL)
        for descendant in family + Self.descendants(of: pid) { kill(descendant, SIGKILL) }
        _ = await waitForExit(timeout: .seconds(2))
    }

    /// Every live descendant of `root`, from /proc.
    static func descendants(of root: Int32) -> [Int32] {
        guard root > 0, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var children: [Int32: [Int32]] = [:]
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { children[parent, default: []].append(pid) }
        }
        var result: [Int32] = []
        var queue = [root]
        while let next = queue.popLast() {
            for child in children[next] ?? [] {
                result.append(child)
                queue.append(child)
            }
        }
        return result
    }
}

/// Runs `body` with a fresh folder, an HTTP client and (unless `apmMode` is nil) a recording APM Server started in
/// that mode; stops them on every path.
func endToEndScenario(
    _ label: String = "lantern-e2e", apmMode: String? = "{}",
    _ body: (URL, HTTPClient, RecordingAPMServer?) async throws -> Void
) async throws {
    try #require(EndToEnd.missing == nil, "\(EndToEnd.missing ?? "")")
    let directory = try TestPaths.temporaryDirectory(label)
    let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    var server: RecordingAPMServer?
    do {
        if let apmMode { server = try await RecordingAPMServer(directory: directory, http: http, mode: apmMode) }
        try await body(directory, http, server)
    } catch {
        await server?.child.stop()
        try? await http.shutdown()
        throw error
    }
    await server?.child.stop()
    try await http.shutdown()
}

/// A TCP port nobody listens on right now.
func freePort() throws -> Int { try freeLoopbackPort() }

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// The recording APM Server (`Tests/peers/apm_server.py`).
final class RecordingAPMServer: Sendable {
    let child: Child
    let port: Int
    let http: HTTPClient

    init(directory: URL, http: HTTPClient, mode: String = "{}") async throws {
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/peers/apm_server.py").path
        let child = try Child(name: "apm-server", executable: TestPaths.python.path, arguments: [script, "--mode", mode],
                              environment: ProcessInfo.processInfo.environment, directory: directory)
        self.child = child
        self.http = http
        var found: Int?
        _ = await eventually(timeout: .seconds(20)) {
            if let line = child.stdout.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }) {
                found = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
            }
            return found != nil || !child.isRunning
        }
        guard let found else {
            await child.stop()
            throw HarnessError("the APM server did not start: \(child.stderr)")
        }
        port = found
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every intake request the server recorded: `{"kind","status","events":[{...}],"errors":[...]}`.
    func recorded() async throws -> [[String: Any]] {
        let response = try await http.execute(HTTPClientRequest(url: url + "/__recorded"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        return json?["requests"] as? [[String: Any]] ?? []
    }

    /// All events the server received, as `(type, object)` pairs, e.g. ("transaction", {...}).
    func events() async throws -> [(String, [String: Any])] {
        var all: [(String, [String: Any])] = []
        for request in try await recorded() where (request["kind"] as? String) == "intake" {
            for event in request["events"] as? [[String: Any]] ?? [] {
                for (key, value) in event {
                    if let object = value as? [String: Any] { all.append((key, object)) }
                }
            }
        }
        return all
    }

    /// Changes how the server answers from now on (see Tests/peers/apm_server.py).
    func setMode(_ mode: String) async throws {
        var request = HTTPClientRequest(url: url + "/__mode")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: mode))
        _ = try await http.execute(request, timeout: .seconds(10))
    }

    /// How many idle kept-alive connections the server closed (mode `idle_timeout`).
    func idleClosed() async throws -> Int {
        let response = try await http.execute(HTTPClientRequest(url: url + "/__recorded"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        return json?["idle_closed"] as? Int ?? 0
    }

    /// Schema validation errors the server found in what it received.
    func schemaErrors() async throws -> [String] {
        try await recorded().flatMap { ($0["errors"] as? [Any] ?? []).map { "\($0)" } }
    }
}

/// `lantern emulate` with one Python handler and `lantern-extension` as its extension.
final class Sandbox: Sendable {
    let child: Child
    let invokeURL: String
    let directory: URL
    let storePath: String
    let receiverPort: Int
    let http: HTTPClient

    /// The handler module every sandbox runs (`handler.instrumented` with elastic-apm, `handler.plain` without).
    static let handlerSource = """
    import os, sys, time
    from elasticapm import capture_serverless

    def work(event, context):
        mode = (event or {}).get("mode", "ok")
        print("handling", context.aws_request_id, mode, flush=True)
        if mode == "sleep":
            time.sleep(float(event["seconds"]))
        elif mode == "crash":
            sys.stdout.flush()
            os._exit(7)
        elif mode == "raise":
            raise RuntimeError("boom")
        return {"ok": True, "request": context.aws_request_id}

    instrumented = capture_serverless(work)

    def plain(event, context):
        return work(event, context)
    """

    init(
        directory: URL, http: HTTPClient, handler: String = "handler.instrumented", timeoutSeconds: Double = 3,
        apmServer: RecordingAPMServer?, dialect: String = "lambda", eagerInit: Bool = false,
        storePath: String? = nil, extraEnvironment: [String: String] = [:], emulatorFlags: [String] = [],
        extensionsFolder: URL? = nil
    ) async throws {
        self.directory = directory
        self.http = http
        // By default the folder holds lantern-extension alone.
        let extensions = extensionsFolder ?? directory.appendingPathComponent("extensions")
        if extensionsFolder == nil {
            try FileManager.default.createDirectory(at: extensions, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: TestPaths.binary("lantern-extension"),
                                             to: extensions.appendingPathComponent("lantern-extension"))
        }
        let task = directory.appendingPathComponent("task")
        try FileManager.default.createDirectory(at: task, withIntermediateDirectories: true)
        try Self.handlerSource.write(to: task.appendingPathComponent("handler.py"), atomically: true, encoding: .utf8)

        receiverPort = try freePort()
        self.storePath = storePath ?? directory.appendingPathComponent("lantern.db").path
        var environment = ProcessInfo.processInfo.environment
        environment["LANTERN_DB"] = self.storePath
        environment["ELASTIC_APM_DATA_RECEIVER_SERVER_PORT"] = String(receiverPort)
        environment["ELASTIC_APM_SERVER_URL"] = "http://127.0.0.1:\(receiverPort)"
        environment["ELASTIC_APM_LOG_LEVEL"] = "debug"
        environment["PYTHONPATH"] = task.path
        // Real Lambda sets it; elastic-apm takes service.runtime.name from it (null otherwise, which the schema refuses).
        environment["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.11"
        if let apmServer {
            environment["ELASTIC_APM_LAMBDA_APM_SERVER"] = apmServer.url
        } else {
            // The agent only registers transactions when this is set; the collector then records only.
            environment["ELASTIC_APM_LAMBDA_APM_SERVER"] = ""
        }
        for (key, value) in extraEnvironment { environment[key] = value }

        let readyFile = directory.appendingPathComponent("ready.json").path
        var arguments = [
            "emulate", "--address", "127.0.0.1:0", "--api-address", "127.0.0.1:0",
            "--timeout", String(timeoutSeconds), "--function-name", "e2e-function",
            "--extensions", extensions.path, "--task-root", task.path, "--ready-file", readyFile,
            "--dialect", dialect,
        ]
        if eagerInit { arguments.append("--eager-init") }
        arguments += emulatorFlags
        arguments += ["--", TestPaths.python.path, "-m", "awslambdaric", handler]
        let child = try Child(name: "emulator", executable: TestPaths.binary("lantern").path, arguments: arguments,
                              environment: environment, directory: directory, workingDirectory: task)
        self.child = child
        var url: String?
        _ = await eventually(timeout: .seconds(30)) {
            if let data = FileManager.default.contents(atPath: readyFile),
               let ready = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                url = ready["invoke"] as? String
            }
            return url != nil || !child.isRunning
        }
        guard let url else {
            await child.stop()
            throw HarnessError("the emulator did not get ready:\n\(child.stderr)\n\(child.stdout)")
        }
        invokeURL = url.hasSuffix("/invocations") ? url : url + "/2015-03-31/functions/function/invocations"
    }

    /// Invokes the function; returns the HTTP status, the function-error header and the body.
    func invoke(_ payload: String, timeout: TimeAmount = .seconds(60)) async throws -> (Int, String?, String) {
        var request = HTTPClientRequest(url: invokeURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: payload))
        let response = try await http.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), response.headers.first(name: "X-Amz-Function-Error"), String(buffer: body))
    }

    /// SIGTERM to the emulator (SHUTDOWN spindown to the extension), then wait for everything to exit.
    func stop() async {
        let family = Child.descendants(of: child.pid)
        kill(child.pid, SIGTERM)
        _ = await child.waitForExit(timeout: .seconds(10))
        await child.stop(grace: .seconds(1))
        for pid in family { kill(pid, SIGKILL) }
    }

    /// Everything the children printed, for failure messages.
    var output: String { "emulator stderr:\n\(child.stderr)\nemulator stdout:\n\(child.stdout)" }
}

/// Reads the store with Python's sqlite3 (read-only): rows of a table as dictionaries.
enum StoreRows {
    static func read(_ storePath: String, _ sql: String) throws -> [[String: Any]] {
        let script = """
        import json, sqlite3, sys
        con = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        print(json.dumps([dict(r) for r in con.execute(sys.argv[2])]))
        """
        let process = Process()
        process.executableURL = TestPaths.python
        process.arguments = ["-c", script, storePath, sql]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(data: errors.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("reading the store failed: \(errorText)") }
        return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    }
}
