// Child processes and the venv's Python for the demo's end-to-end tests: run with a deadline, capture
// output in files (no pipe deadlocks), and always end what was started.

import Foundation
import TestSupport

/// The outcome of one child process.
struct DemoChildResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

enum DemoChild {
    /// Runs `executable` to completion or until `timeout`; then SIGINT (the demo spins down on it), SIGTERM, SIGKILL.
    static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], removing: [String] = [],
        replacingEnvironment: [String: String]? = nil, currentDirectory: URL? = nil, timeout: Duration
    ) async throws -> DemoChildResult {
        let folder = try TestPaths.temporaryDirectory("demo-child")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("stdout"), err = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = replacingEnvironment ?? ProcessInfo.processInfo.environment
        for key in removing { env.removeValue(forKey: key) }
        env.merge(environment) { _, new in new }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var timedOut = false
        while process.isRunning {
            if clock.now >= deadline {
                timedOut = true
                for (signal, grace) in [(SIGINT, 40), (SIGTERM, 10), (SIGKILL, 5)] where process.isRunning {
                    kill(process.processIdentifier, signal)
                    let until = clock.now + .seconds(grace)
                    while process.isRunning, clock.now < until { try? await Task.sleep(for: .milliseconds(100)) }
                }
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        process.waitUntilExit()
        return DemoChildResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
            timedOut: timedOut)
    }

    /// Runs a Python script with the venv's interpreter and decodes its stdout as JSON.
    static func python<T: Decodable>(_ script: String, _ arguments: [String], as type: T.Type) async throws -> T {
        let result = try await run(TestPaths.python, ["-c", script] + arguments, timeout: .seconds(120))
        guard result.status == 0 else {
            throw DemoTestFailure("python failed (\(result.status)): \(result.stderr)")
        }
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }
}

struct DemoTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Validates ndjson intake events against the APM Server intake v2 schemas in Tests/peers/apm-intake-spec.
enum IntakeSchemas {
    static let folder = TestPaths.packageRoot.appendingPathComponent("Tests/peers/apm-intake-spec")

    /// Counts by event type and the first validation errors, for every line of the given files.
    struct Report: Decodable {
        var counts: [String: Int]
        var errors: [String]
    }

    static let script = #"""
    import json, sys, os, jsonschema
    folder, paths = sys.argv[1], sys.argv[2:]
    files = {"metadata": "metadata.json", "transaction": "transaction.json", "span": "span.json",
             "error": "error.json", "metricset": "metricset.json", "log": "log.apm-server-80d2392.json"}
    validators = {}
    for key, name in files.items():
        with open(os.path.join(folder, name)) as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        validators[key] = cls(schema)
    counts, errors = {}, []
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError as e:
                    errors.append(f"{path}:{number}: not JSON: {e}")
                    continue
                if not isinstance(event, dict) or len(event) != 1:
                    errors.append(f"{path}:{number}: not a one-key object")
                    continue
                (key, body), = event.items()
                counts[key] = counts.get(key, 0) + 1
                if key not in validators:
                    errors.append(f"{path}:{number}: unknown event type {key}")
                    continue
                for e in validators[key].iter_errors(body):
                    errors.append(f"{path}:{number}: {key}: {e.message} at {list(e.absolute_path)}")
    print(json.dumps({"counts": counts, "errors": errors[:20]}))
    """#

    static func validate(_ files: [URL]) async throws -> Report {
        try await DemoChild.python(script, [folder.path] + files.map(\.path), as: Report.self)
    }
}
