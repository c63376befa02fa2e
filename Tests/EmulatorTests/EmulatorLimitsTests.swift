import Foundation
import LambdaWire
import Testing
import TestSupport

/// Limits and failure modes: payload size, memory, concurrency, lagging subscribers, RIE's dialect, bad flags.
@Suite("lantern emulate limits", .serialized)
struct EmulatorLimitsTests {
    @Test("a response over 6 MB is refused; max memory used is sampled from the runtime")
    func responseSizeAndMemory() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--memory", "512"])
        defer { emulator.terminate() }

        let big = try await emulator.invoke(#"{"action":"big"}"#)
        #expect(big.status == 200)
        #expect(big.headers["x-amz-function-error"] == "Unhandled")
        #expect(big.json?["errorType"] as? String == WireErrorType.responseSizeTooLarge)
        #expect((big.json?["errorMessage"] as? String)?.contains("6291556 bytes") == true)

        let alloc = try await emulator.invoke(#"{"action":"alloc"}"#)
        #expect(alloc.status == 200, "\(alloc.body)")
        let requestID = try #require(alloc.headers["x-amzn-requestid"])
        var reportLine: Substring?
        for _ in 0..<200 {
            reportLine = emulator.output.split(separator: "\n").first { $0.hasPrefix("REPORT RequestId: \(requestID)") }
            if reportLine != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let line = try #require(reportLine)
        let used = try #require(line.split(separator: "\t").first { $0.hasPrefix("Max Memory Used: ") })
        let megabytes = try #require(Int(used.dropFirst("Max Memory Used: ".count).prefix { $0.isNumber }))
        #expect(megabytes >= 100, "\(line)")
        #expect(line.contains("Memory Size: 512 MB"))
    }

    @Test("8 concurrent invokes are all answered (or get 429) and the emulator keeps serving")
    func concurrentInvokes() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--max-queue", "3", "--eager-init"])
        defer { emulator.terminate() }
        let warm = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(warm.status == 200)

        let replies = try await withThrowingTaskGroup(of: EmulatorProcess.Reply.self) { group in
            for _ in 0..<8 {
                group.addTask { try await emulator.invoke(#"{"action":"sleep","seconds":1}"#) }
            }
            var all: [EmulatorProcess.Reply] = []
            for try await reply in group { all.append(reply) }
            return all
        }
        #expect(replies.count == 8)
        #expect(replies.allSatisfy { $0.status == 200 || $0.status == 429 }, "\(replies.map(\.status))")
        let answered = replies.filter { $0.status == 200 }
        let refused = replies.filter { $0.status == 429 }
        #expect(answered.count >= 4)
        #expect(!refused.isEmpty)
        #expect(answered.allSatisfy { $0.json?["slept"] != nil })
        #expect(refused.allSatisfy { $0.json?["errorType"] as? String == WireErrorType.tooManyRequests })
        let after = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(after.status == 200)
    }

    @Test("a subscriber that lags gets platform.logsDropped")
    func logsDropped() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            // Not frozen: the emulator keeps retrying the lagging subscriber while the sandbox is idle.
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--quiet", "--no-freeze"],
            environment: ["EXT_GATE_FILE": ws.root.appendingPathComponent("gate").path])
        defer { emulator.terminate() }

        let reply = try await emulator.invoke(#"{"action":"flood","lines":6000}"#)
        #expect(reply.status == 200)
        // The listener refuses deliveries until the emulator has had to drop records; then it catches up.
        let refused = await EmulatorProcess.eventually(ws, timeout: 30) { !Records.kind($0, "refusedWithDrops").isEmpty }
        #expect(!Records.kind(refused, "refusedWithDrops").isEmpty)
        _ = FileManager.default.createFile(atPath: ws.root.appendingPathComponent("gate").path, contents: nil)
        func accounted(_ events: [TelemetryEvent]) -> Int {
            events.reduce(0) { sum, event in
                switch event.record {
                case .function: sum + 1
                case .logsDropped(let d): sum + d.droppedRecords
                default: sum
                }
            }
        }
        let records = await EmulatorProcess.eventually(ws, timeout: 30) { recs in
            accounted((try? Records.telemetry(recs)) ?? []) >= 6000
        }
        let events = try Records.telemetry(records)
        let dropped = events.compactMap { if case .logsDropped(let d) = $0.record { d } else { nil } }
        let first = try #require(dropped.first)
        #expect(first.droppedRecords > 0 && first.droppedBytes > 0 && !first.reason.isEmpty)
        #expect(accounted(events) >= 6000)
    }

    @Test("--dialect rie answers a timeout with 200 plain text and a crash with 502")
    func rieDialect() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "1", "--dialect", "rie"])
        defer { emulator.terminate() }

        let timedOut = try await emulator.invoke(#"{"action":"sleep","seconds":3}"#)
        #expect(timedOut.status == 200)
        #expect(timedOut.body == "Task timed out after 1.00 seconds")
        #expect(timedOut.headers["x-amz-function-error"] == nil)
        let crashed = try await emulator.invoke(#"{"action":"crash"}"#)
        #expect(crashed.status == 502)
        #expect(crashed.json?["errorType"] as? String == WireErrorType.runtimeExitError)
        let fine = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(fine.status == 200)
    }

    @Test("a bootstrap that cannot start is an init error naming it; the emulator keeps serving")
    func missingBootstrap() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        let missing = ws.root.appendingPathComponent("no-such-bootstrap").path
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path], bootstrap: [missing])
        defer { emulator.terminate() }
        for _ in 0..<2 {
            let reply = try await emulator.invoke("{}")
            #expect(reply.status == 200)
            #expect(reply.headers["x-amz-function-error"] == "Unhandled")
            #expect(reply.json?["errorType"] as? String == "Runtime.InvalidEntrypoint")
            #expect((reply.json?["errorMessage"] as? String)?.contains(missing) == true)
        }
    }

    @Test("an address already in use is a clear start-up error (exit 2)")
    func addressInUse() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        let first = try await EmulatorProcess.start(ws, arguments: ["--extensions", ws.extensions.path])
        defer { first.terminate() }
        let process = Process()
        process.executableURL = TestPaths.binary("lantern")
        process.arguments = ["emulate", "--address", "127.0.0.1:0", "--api-address", first.apiAddress, "--", "/bin/true"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = Pipe()
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        let message = String(decoding: data, as: UTF8.self)
        #expect(message.contains("cannot listen on \(first.apiAddress) (--api-address)"), "\(message)")
    }

    @Test("bad command lines get a clear error", arguments: [
        (["emulate"], "bootstrap"),
        (["emulate", "--dialect", "nope", "--", "/bin/true"], "--dialect"),
        (["emulate", "--extensions", "/nonexistent-lantern-folder", "--", "/bin/true"], "/nonexistent-lantern-folder"),
        (["emulate", "--address", "nowhere", "--", "/bin/true"], "host:port"),
        (["emulate", "--timeout", "0", "--", "/bin/true"], "timeout"),
    ])
    func badCommandLines(arguments: [String], mentions: String) throws {
        let process = Process()
        process.executableURL = TestPaths.binary("lantern")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = Pipe()
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(String(decoding: data, as: UTF8.self).contains(mentions))
    }
}
