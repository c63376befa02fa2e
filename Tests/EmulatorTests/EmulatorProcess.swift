import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport

/// A `lantern emulate` child for one test: started on free ports, stopped (SIGTERM, then SIGKILL) on every path.
final class EmulatorProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's own task; Foundation's Process is not Sendable.
    let process: Process
    let outputFile: URL
    let invokeURL: String
    let apiAddress: String

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        var receivedAt: Double

        var json: [String: Any]? {
            try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        }
    }

    private init(process: Process, outputFile: URL, invokeURL: String, apiAddress: String) {
        self.process = process
        self.outputFile = outputFile
        self.invokeURL = invokeURL
        self.apiAddress = apiAddress
    }

    /// Starts the emulator with `arguments` (before `--`) and `bootstrap`, in `workspace`.
    static func start(
        _ workspace: Fixtures.Workspace, arguments: [String], handler: String = "handlers.main",
        environment: [String: String] = [:], bootstrap: [String]? = nil
    ) async throws -> EmulatorProcess {
        let ready = workspace.root.appendingPathComponent("ready-\(UUID().uuidString.prefix(6)).json")
        let output = workspace.root.appendingPathComponent("emulator-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = TestPaths.binary("lantern")
        process.arguments = ["emulate", "--address", "127.0.0.1:0", "--api-address", "127.0.0.1:0",
                             "--ready-file", ready.path, "--task-root", workspace.function.path]
            + arguments + ["--"] + (bootstrap ?? [TestPaths.python.path, "-m", "awslambdaric", handler])
        var env = ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = workspace.function.path
        env["EXT_OUT"] = workspace.records.path
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()

        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let data = try? Data(contentsOf: ready),
               let json = try? JSONSerialization.jsonObject(with: data) as? [String: String],
               let invoke = json["invoke"], let api = json["api"] {
                return EmulatorProcess(process: process, outputFile: output, invokeURL: invoke, apiAddress: api)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        process.waitUntilExit()
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        throw TestFailure("lantern emulate did not become ready; output:\n\(log)")
    }

    /// What the emulator printed so far.
    var output: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }

    /// POSTs `body` to the invoke endpoint.
    func invoke(_ body: String, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(30)) async throws -> Reply {
        try await Self.request(invokeURL, method: .POST, body: body, headers: headers, timeout: timeout)
    }

    /// Calls the control plane directly (as a misbehaving runtime or extension would).
    func api(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        try await Self.request("http://\(apiAddress)\(path)", method: method, body: body, headers: headers, timeout: .seconds(10))
    }

    static func request(
        _ url: String, method: HTTPMethod, body: String?, headers: [(String, String)], timeout: TimeAmount
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        var h: [String: String] = [:]
        for header in response.headers { h[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: h, body: String(buffer: bytes),
                     receivedAt: Date().timeIntervalSince1970)
    }

    /// SIGTERM (spindown), then waits; SIGKILL after `grace`. Returns the exit status.
    @discardableResult
    func stop(grace: TimeInterval = 10) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Waits until `condition` holds for the workspace's records (extensions write asynchronously).
    static func eventually(
        _ workspace: Fixtures.Workspace, timeout: TimeInterval = 15, _ condition: ([[String: Any]]) -> Bool
    ) async -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        var records = workspace.recorded()
        while !condition(records), Date() < deadline {
            try? await Task.sleep(for: .milliseconds(25))
            records = workspace.recorded()
        }
        return records
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
