// The recording APM Server (Tests/peers/apm_server.py) as a child process for one test.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport

/// One request the test APM Server received.
struct RecordedRequest {
    var kind: String
    var method: String
    var path: String
    var headers: [String: String]
    var status: Int?
    /// Each event as `(key, object)`, in order.
    var events: [(key: String, value: [String: Any])]
    /// Schema validation errors (empty = every event valid).
    var errors: [String]
    var crashed: Bool
    var hung: Bool

    var eventKeys: [String] { events.map(\.key) }
}


/// A running `apm_server.py`.
final class RecordingAPMServer: Sendable {
    let process: Process
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(mode: String = "{}") throws -> RecordingAPMServer {
        let process = Process()
        process.executableURL = TestPaths.python
        process.arguments = [
            TestPaths.packageRoot.appendingPathComponent("Tests/peers/apm_server.py").path, "--mode", mode,
        ]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        try process.run()
        // The first line is `PORT <n>`.
        var line = Data()
        let handle = stdout.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let text = String(data: line, encoding: .utf8), text.hasPrefix("PORT "),
            let port = Int(text.dropFirst(5))
        else {
            process.terminate()
            throw TestFailure("apm_server.py did not print its port (got '\(String(decoding: line, as: UTF8.self))')")
        }
        return RecordingAPMServer(process: process, port: port)
    }

    func stop() {
        // SIGKILL: the test runner's children may inherit a blocked SIGTERM; the peer holds nothing worth flushing.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func setMode(_ json: String) async throws {
        _ = try await Self.http("POST", url + "/__mode", body: Data(json.utf8))
    }

    func recorded() async throws -> [RecordedRequest] {
        let data = try await Self.http("GET", url + "/__recorded", body: nil)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let requests = object?["requests"] as? [[String: Any]] ?? []
        return requests.map { request in
            let events = (request["events"] as? [[String: Any]] ?? []).map { event in
                let key = event.keys.first ?? ""
                return (key: key, value: event[key] as? [String: Any] ?? [:])
            }
            return RecordedRequest(
                kind: request["kind"] as? String ?? "", method: request["method"] as? String ?? "",
                path: request["path"] as? String ?? "", headers: request["headers"] as? [String: String] ?? [:],
                status: request["status"] as? Int, events: events, errors: request["errors"] as? [String] ?? [],
                crashed: request["crashed"] as? Bool ?? false, hung: request["hung"] as? Bool ?? false)
        }
    }

    /// Intake requests only.
    func intake() async throws -> [RecordedRequest] {
        try await recorded().filter { $0.kind == "intake" }
    }

    static func http(_ method: String, _ url: String, body: Data?) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Data(buffer.readableBytesView)
    }
}

/// Runs `body` with a fresh recording APM Server and always stops it.
func withRecordingAPMServer<T>(mode: String = "{}", _ body: (RecordingAPMServer) async throws -> T) async throws -> T {
    let server = try RecordingAPMServer.start(mode: mode)
    defer { server.stop() }
    return try await body(server)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
