import Foundation
import LambdaWire
import Testing
import TestSupport

/// `lantern emulate --max-concurrency N`: Lambda Managed Instances, with real awslambdaric workers (it forks
/// `AWS_LAMBDA_MAX_CONCURRENCY` processes) and the recording extension.
@Suite("lantern emulate, Lambda Managed Instances", .serialized)
struct EmulatorManagedTests {
    /// The recorder as an LMI-aware extension: SHUTDOWN only, Telemetry schema 2025-01-29.
    static let awareExtension = ["EXT_EVENTS": #"["SHUTDOWN"]"#, "EXT_SCHEMA": "2025-01-29"]

    static func overlapping(_ emulator: EmulatorProcess, _ count: Int, _ body: String) async throws -> [EmulatorProcess.Reply] {
        try await withThrowingTaskGroup(of: EmulatorProcess.Reply.self) { group in
            for _ in 0..<count {
                group.addTask { try await emulator.invoke(body, timeout: .seconds(60)) }
            }
            var all: [EmulatorProcess.Reply] = []
            for try await reply in group { all.append(reply) }
            return all
        }
    }

    /// "current peak" from the `concurrent` handler's counter file.
    static func runtimeSidePeak(_ ws: Fixtures.Workspace) -> (current: Int, peak: Int)? {
        let text = (try? String(contentsOf: ws.inFlight, encoding: .utf8)) ?? ""
        let parts = text.split(separator: " ").compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    @Test("N=4: four workers, 40 overlapping invokes all answered with at most 4 in flight; LMI telemetry; SHUTDOWN on SIGTERM")
    func overlappingInvokes() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--max-concurrency", "4",
                            "--max-queue", "40", "--eager-init", "--quiet"],
            environment: Self.awareExtension.merging(["INFLIGHT_FILE": ws.inFlight.path]) { $1 })
        defer { emulator.terminate() }

        let replies = try await Self.overlapping(emulator, 40, #"{"action":"concurrent","seconds":0.2}"#)
        #expect(replies.count == 40)
        #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.map { "\($0.status) \($0.body)" })")
        // Each reply is its own invocation's: the runtime saw the request id the caller got.
        for reply in replies {
            #expect(reply.headers["x-amz-function-error"] == nil, "\(reply.body)")
            #expect(reply.json?["requestId"] as? String == reply.headers["x-amzn-requestid"], "\(reply.body)")
            #expect(reply.json?["initType"] as? String == "lambda-managed-instances")
            #expect(reply.json?["maxConcurrency"] as? String == "4")
            // Every invocation has its own deadline, a full timeout after its own start (not the queue's).
            let remaining = reply.json?["remainingMs"] as? Int ?? 0
            #expect(remaining > 8_000 && remaining <= 10_000, "\(remaining)")
        }
        #expect(Set(replies.compactMap { $0.headers["x-amzn-requestid"] }).count == 40)
        let pids = Set(replies.compactMap { $0.json?["pid"] as? Int })
        #expect(pids.count == 4, "worker pids \(pids)")
        let counter = try #require(Self.runtimeSidePeak(ws))
        #expect(counter.current == 0)
        #expect(counter.peak <= 4, "the runtime saw \(counter.peak) invocations at once")
        #expect(counter.peak >= 2, "40 overlapping invokes never overlapped in the runtime")
        #expect(!emulator.output.contains("Post Runtime Duration"))
        // Never frozen on Managed Instances, although freezing is on by default.
        #expect(emulator.output.contains("never frozen (Lambda Managed Instances)"), "\(emulator.output)")

        let ids = Set(replies.compactMap { $0.headers["x-amzn-requestid"] })
        let records = await EmulatorProcess.eventually(ws) { records in
            let events = (try? Records.telemetry(records)) ?? []
            return Set(Records.reports(events).map(\.requestId)).isSuperset(of: ids)
        }
        let events = try Records.telemetry(records)
        let subscribe = try #require(Records.kind(records, "subscribe").first)
        #expect(subscribe["status"] as? Int == 200, "\(subscribe)")
        #expect(Records.kind(records, "register").first?["status"] as? Int == 200)
        #expect(Records.initStarts(events).first?.initializationType == .lambdaManagedInstances)
        #expect(Records.runtimeDones(events).isEmpty, "no platform.runtimeDone on Managed Instances")
        let starts = events.compactMap { if case .start(let r) = $0.record { r } else { nil } }
        #expect(Set(starts.map(\.requestId)) == ids)
        #expect(starts.allSatisfy { $0.functionArn?.hasSuffix(":function:test_function") == true && $0.version == "$LATEST" })
        let reports = Records.reports(events).filter { ids.contains($0.requestId) }
        #expect(reports.count == 40)
        for report in reports {
            #expect(report.status == .success)
            #expect(report.metrics.durationMs >= 150)
            #expect(report.metrics.billedDurationMs == nil && report.metrics.memorySizeMB == nil
                && report.metrics.maxMemoryUsedMB == nil && report.metrics.initDurationMs == nil)
            #expect(report.spans?.map(\.name) == ["responseLatency", "responseDuration"])
        }
        let extensionStates = events.compactMap { if case .extensionState(let r) = $0.record { r } else { nil } }
        #expect(extensionStates.first?.events == ["SHUTDOWN"])

        let status = await emulator.stop()
        #expect(status == 0)
        let final = await EmulatorProcess.eventually(ws) { !Records.kind($0, "exit").isEmpty }
        #expect(try Records.shutdownReasons(final) == ["spindown"])
        #expect(try Records.extensionEvents(final).allSatisfy { $0.event.eventType == .shutdown })
    }

    @Test("an extension that registers for INVOKE is refused (403 Extension.InvalidEventType) and init fails with Extension.InitError")
    func invokeRegistrationRefused() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        // The recorder asks for INVOKE and SHUTDOWN, as every classic extension (Elastic's, Lantern's before LMI) does.
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--max-concurrency", "2"])
        defer { emulator.terminate() }

        let reply = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(reply.status == 200)
        #expect(reply.headers["x-amz-function-error"] == "Unhandled")
        #expect(reply.json?["errorType"] as? String == WireErrorType.extensionInitError, "\(reply.body)")
        let message = reply.json?["errorMessage"] as? String ?? ""
        #expect(message.contains("INVOKE") && message.contains("SHUTDOWN only"), "\(message)")

        let register = try #require(Records.kind(ws.recorded(), "register").first)
        #expect(register["status"] as? Int == 403)
        let body = try JSONSerialization.jsonObject(with: Data((register["body"] as? String ?? "").utf8)) as? [String: Any]
        #expect(body?["errorType"] as? String == WireErrorType.invalidEventType)
        #expect((body?["errorMessage"] as? String)?.contains("INVOKE") == true)
        let output = emulator.output
        #expect(output.contains("registered for INVOKE, which Lambda Managed Instances refuse"), "\(output)")
        #expect(output.contains("INIT_REPORT") && output.contains("Error Type: \(WireErrorType.extensionInitError)"), "\(output)")
        #expect(await emulator.stop() == 0)
    }

    @Test("Telemetry accepts only schema 2025-01-29; the Logs API is not supported")
    func subscriptionRules() async throws {
        let ws = try Fixtures.Workspace(extensionNames: ["recorder", "logs-recorder"])
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--max-concurrency", "2", "--quiet"],
            environment: ["EXT_EVENTS": #"["SHUTDOWN"]"#, "EXT_SCHEMA": "2022-12-13"])
        defer { emulator.terminate() }

        let reply = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(reply.status == 200, "\(reply.body)")
        #expect(reply.headers["x-amz-function-error"] == nil)
        let subscribes = Records.kind(ws.recorded(), "subscribe")
        let telemetry = try #require(subscribes.first { $0["ext"] as? String == "recorder" })
        #expect(telemetry["status"] as? Int == 400)
        #expect((telemetry["body"] as? String)?.contains("ValidationError") == true, "\(telemetry)")
        #expect((telemetry["body"] as? String)?.contains("2025-01-29") == true, "\(telemetry)")
        let logs = try #require(subscribes.first { $0["ext"] as? String == "logs-recorder" })
        #expect(logs["status"] as? Int == 202)
        #expect((logs["body"] as? String)?.contains(WireErrorType.logsNotSupported) == true, "\(logs)")
        #expect(await emulator.stop() == 0)
    }

    @Test("an invocation times out on its own deadline: its caller and its report say so, the others finish, the environment resets")
    func perInvocationTimeout() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "1.5", "--max-concurrency", "2", "--eager-init", "--quiet"],
            environment: Self.awareExtension)
        defer { emulator.terminate() }

        async let slow = emulator.invoke(#"{"action":"sleep","seconds":8}"#)
        try await Task.sleep(for: .milliseconds(300))
        let quick = try await emulator.invoke(#"{"action":"sleep","seconds":0.5}"#)
        let timedOut = try await slow
        #expect(quick.status == 200 && quick.json?["slept"] != nil, "\(quick.body)")
        #expect(timedOut.status == 200)
        #expect(timedOut.headers["x-amz-function-error"] == "Unhandled")
        #expect(timedOut.json?["errorType"] as? String == WireErrorType.sandboxTimedOut, "\(timedOut.body)")
        let timedOutID = try #require(timedOut.headers["x-amzn-requestid"])
        let quickID = try #require(quick.headers["x-amzn-requestid"])

        // The environment is reset and initialised again for the next invoke.
        let after = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(after.status == 200 && after.headers["x-amz-function-error"] == nil, "\(after.body)")

        let records = await EmulatorProcess.eventually(ws) { records in
            let reports = Records.reports((try? Records.telemetry(records)) ?? [])
            return reports.contains { $0.requestId == timedOutID } && reports.contains { $0.requestId == quickID }
        }
        let reports = Records.reports(try Records.telemetry(records))
        let report = try #require(reports.first { $0.requestId == timedOutID })
        #expect(report.status == .timeout)
        #expect(report.errorType == nil)
        #expect(report.metrics.durationMs >= 1_400 && report.metrics.durationMs < 5_000, "\(report.metrics.durationMs)")
        #expect(reports.first { $0.requestId == quickID }?.status == .success)
        #expect(try Records.shutdownReasons(records).first == "timeout")
        #expect(emulator.output.contains("\(timedOutID) Task timed out after 1.50 seconds"))
        #expect(await emulator.stop() == 0)
    }

    @Test("every worker busy and the line full: 429 TooManyRequestsException, and the emulator keeps serving")
    func busyAnswer() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--max-concurrency", "2",
                            "--max-queue", "1", "--eager-init", "--quiet"])
        defer { emulator.terminate() }
        let warm = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(warm.status == 200)

        let replies = try await Self.overlapping(emulator, 8, #"{"action":"sleep","seconds":1}"#)
        let answered = replies.filter { $0.status == 200 }
        let refused = replies.filter { $0.status == 429 }
        #expect(answered.count + refused.count == 8, "\(replies.map(\.status))")
        #expect(answered.count >= 3, "2 run and 1 waits: \(replies.map(\.status))")
        #expect(answered.allSatisfy { $0.json?["slept"] != nil })
        #expect(!refused.isEmpty)
        #expect(refused.allSatisfy { $0.json?["errorType"] as? String == WireErrorType.tooManyRequests })
        #expect(refused.allSatisfy { ($0.json?["errorMessage"] as? String)?.contains("every worker is busy") == true })
        let after = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(after.status == 200)
        #expect(await emulator.stop() == 0)
    }

    @Test("SIGTERM with invocations in their handlers: 503 to their callers, failure reports, then SHUTDOWN spindown and exit 0")
    func spindownWithInvocationsInFlight() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "30", "--max-concurrency", "2", "--eager-init", "--quiet"],
            environment: Self.awareExtension)
        defer { emulator.terminate() }
        let warm = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(warm.status == 200)

        async let first = emulator.invoke(#"{"action":"sleep","seconds":20}"#)
        async let second = emulator.invoke(#"{"action":"sleep","seconds":20}"#)
        // Both are in their handlers once their START lines are out (two after the warm-up's).
        for _ in 0..<200 where emulator.output.components(separatedBy: "START RequestId").count < 4 {
            try await Task.sleep(for: .milliseconds(25))
        }
        let status = await emulator.stop()
        let replies = try await [first, second]
        #expect(status == 0)
        #expect(replies.allSatisfy { $0.status == 503 }, "\(replies.map { "\($0.status) \($0.body)" })")
        let records = await EmulatorProcess.eventually(ws) { !Records.kind($0, "exit").isEmpty }
        let failed = Records.reports(try Records.telemetry(records)).filter { $0.status == .failure }
        #expect(failed.count == 2)
        #expect(failed.allSatisfy { $0.errorType == "Sandbox.Terminated" })
        #expect(try Records.shutdownReasons(records) == ["spindown"])
    }

    @Test("a runtime with more workers than N (6 for N=3) still gets at most 3 invocations at once")
    func admitsAtMostN() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        // awslambdaric forks as many workers as AWS_LAMBDA_MAX_CONCURRENCY says: overriding it for the runtime alone
        // gives it spare workers, so only the emulator's admission keeps the handler count at N.
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10", "--max-concurrency", "3",
                            "--max-queue", "30", "--eager-init", "--quiet"],
            environment: ["INFLIGHT_FILE": ws.inFlight.path],
            bootstrap: ["/usr/bin/env", "AWS_LAMBDA_MAX_CONCURRENCY=6", TestPaths.python.path, "-m", "awslambdaric", "handlers.main"])
        defer { emulator.terminate() }

        let replies = try await Self.overlapping(emulator, 30, #"{"action":"concurrent","seconds":0.2}"#)
        #expect(replies.allSatisfy { $0.status == 200 && $0.headers["x-amz-function-error"] == nil }, "\(replies.map(\.body))")
        #expect(Set(replies.compactMap { $0.json?["pid"] as? Int }).count > 3, "the spare workers took invocations too")
        let counter = try #require(Self.runtimeSidePeak(ws))
        #expect(counter.peak <= 3, "the runtime saw \(counter.peak) invocations at once")
        #expect(counter.peak >= 2)
        #expect(await emulator.stop() == 0)
    }
}
