// The last invocation's `platform.report` at SHUTDOWN, with the real binaries: `lantern emulate`,
// `lantern sample-function` as the runtime and `lantern-extension` as its extension. The emulator is
// stopped the moment the caller has its response, while the collector is still in the invoke's
// post-runtime phase: the report must still reach the store, and the exit must stay quick.

import AsyncHTTPClient
import Foundation
import LanternStore
import NIOCore
import TestSupport
import Testing

@Suite(.serialized)
struct ShutdownReportTests {
    @Test("a stop right after the response still stores the last report, and SHUTDOWN ends quickly")
    func lastReportSurvivesAnImmediateStop() async throws {
        for name in ["lantern", "lantern-extension"] {
            try #require(FileManager.default.isExecutableFile(atPath: TestPaths.binary(name).path),
                         "build \(name) first (swift build --build-tests)")
        }
        let directory = try TestPaths.temporaryDirectory("collector-shutdown")
        defer { try? FileManager.default.removeItem(at: directory) }
        let emulator = try await EmulatorWithCollector.start(in: directory)
        defer { emulator.kill() }

        // Two invokes: the first is released normally, the second is cut by the stop. Without an agent the
        // collector ends each on runtimeDone, at least one 25 ms telemetry batch after the response.
        var requestIDs: [String] = []
        for _ in 0..<2 {
            let (status, requestID, body) = try await emulator.invoke(#"{"kind":"success"}"#)
            #expect(status == 200, "\(body)")
            requestIDs.append(requestID ?? "?")
        }
        emulator.terminate()
        #expect(await emulator.waitForExit(timeout: .seconds(10)), "\(emulator.output)")

        let store = try Connection(path: emulator.storePath, mode: .readOnly)
        defer { store.close() }
        let rows = try store.rows(
            "SELECT request_id, billed_duration_ms, duration_ms, released_at FROM invocations ORDER BY invoked_at")
        #expect(rows.map { $0[0].string ?? "" } == requestIDs, "\(emulator.output)")
        for row in rows {
            #expect(row[1].int64 != nil, "no report metrics for \(row[0].string ?? "?"):\n\(emulator.output)")
            #expect(row[2].double != nil || row[2].int64 != nil)
            #expect(row[3].int64 != nil)
        }
        let shutdowns = try store.rows("SELECT reason, received_at, exited_at, deadline_at FROM shutdowns")
        #expect(shutdowns.count == 1)
        let shutdown = try #require(shutdowns.first)
        #expect(shutdown[0].string == "spindown")
        let received = try #require(shutdown[1].int64)
        let exited = try #require(shutdown[2].int64)
        // The platform SIGKILLs at the SHUTDOWN deadline: the collector must have finished before it.
        // (How quickly is a benchmark's question: `lantern-bench shutdown`.)
        let deadline = try #require(shutdown[3].int64)
        #expect(exited >= received && exited < deadline, "SHUTDOWN at \(received), exit at \(exited), deadline \(deadline) (µs)")
    }
}

/// `lantern emulate` running `lantern sample-function` (agent off) with `lantern-extension` recording to a store.
private final class EmulatorWithCollector: Sendable {
    let process: Process
    let invokeURL: String
    let storePath: String
    let logPath: String

    private init(process: Process, invokeURL: String, storePath: String, logPath: String) {
        self.process = process
        self.invokeURL = invokeURL
        self.storePath = storePath
        self.logPath = logPath
    }

    static func start(in directory: URL) async throws -> EmulatorWithCollector {
        let extensions = directory.appendingPathComponent("extensions")
        try FileManager.default.createDirectory(at: extensions, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: extensions.appendingPathComponent("lantern-extension"), withDestinationURL: TestPaths.binary("lantern-extension"))
        let storePath = directory.appendingPathComponent("lantern.db").path
        let logPath = directory.appendingPathComponent("emulator.log").path
        let readyFile = directory.appendingPathComponent("ready.json").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)

        var environment = ProcessInfo.processInfo.environment
        environment["LANTERN_DB"] = storePath
        // Record only: no APM Server to wait for.
        environment["ELASTIC_APM_LAMBDA_APM_SERVER"] = ""
        environment["ELASTIC_APM_DATA_RECEIVER_SERVER_PORT"] = String(try freeLoopbackPort())
        environment["LANTERN_DEMO_AGENT"] = "off"
        let lantern = TestPaths.binary("lantern").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: lantern)
        process.arguments = [
            "emulate", "--address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--timeout", "5",
            "--function-name", "shutdown-report", "--extensions", extensions.path, "--ready-file", readyFile,
            "--", lantern, "sample-function",
        ]
        process.environment = environment
        process.currentDirectoryURL = directory
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()

        let until = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < until, process.isRunning {
            if let data = FileManager.default.contents(atPath: readyFile),
               let ready = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let invoke = ready["invoke"] as? String {
                return EmulatorWithCollector(process: process, invokeURL: invoke, storePath: storePath, logPath: logPath)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        throw ShutdownTestFailure("the emulator did not get ready:\n\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    /// Status, request id and body of one invoke.
    func invoke(_ payload: String) async throws -> (Int, String?, String) {
        var request = HTTPClientRequest(url: invokeURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: payload))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let requestID = response.headers.first(name: "X-Amzn-RequestId")
        return (Int(response.status.code), requestID, String(buffer: body))
    }

    /// SIGTERM: the emulator spins down (SHUTDOWN `spindown` to the collector).
    func terminate() { Glibc.kill(process.processIdentifier, SIGTERM) }

    func waitForExit(timeout: Duration) async -> Bool {
        let until = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(20)) }
        return !process.isRunning
    }

    /// Last resort on every path: nothing of this test outlives it.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}


private struct ShutdownTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
