import Foundation
import LambdaWire
import Testing
import TestSupport

/// `lantern emulate` with awslambdaric as the runtime and a recording Python extension, over loopback.
@Suite("lantern emulate", .serialized)
struct EmulatorLifecycleTests {
    @Test("early response, trace ids, every telemetry event type, API errors, spindown")
    func lifecycleAndTelemetry() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "5", "--function-name", "orders"],
            environment: ["EXT_POST_INVOKE_SLEEP": "0.5", "EXT_BAD_SUBSCRIPTION": "1"])
        var stopped = false
        defer { if !stopped { emulator.terminate() } }

        let givenTrace = "Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1"
        let first = try await emulator.invoke(#"{"action":"ok"}"#, headers: [("X-Amzn-Trace-Id", givenTrace)])
        let second = try await emulator.invoke(#"{"action":"ok","n":2}"#)
        #expect(first.status == 200, "\(first.body)")
        #expect(second.status == 200, "\(second.body)")
        let firstID = try #require(first.json?["requestId"] as? String)
        let secondID = try #require(second.json?["requestId"] as? String)
        #expect(first.headers["x-amzn-requestid"] == firstID)
        #expect(first.json?["trace"] as? String == givenTrace)
        let generated = try #require(second.json?["trace"] as? String)
        #expect(generated.hasPrefix("Root=1-") && generated.contains(";Parent="))

        let failed = try await emulator.invoke(#"{"action":"fail"}"#)
        #expect(failed.status == 200)
        #expect(failed.headers["x-amz-function-error"] == "Unhandled")
        #expect(failed.json?["errorMessage"] as? String == "boom")

        // Early response: the caller had its answer before the extension's 0.5 s of post-invoke work ended,
        // and the next invoke reached the extension only after that work.
        var records = await EmulatorProcess.eventually(ws) { recs in
            Records.kind(recs, "postInvokeDone").count >= 3 && Records.reports((try? Records.telemetry(recs)) ?? []).count >= 3
        }
        let done = Records.kind(records, "postInvokeDone")
        let firstDone = try #require(done.first { $0["requestId"] as? String == firstID }?["at"] as? Double)
        #expect(first.receivedAt < firstDone)
        let invokes = try Records.extensionEvents(records).filter { $0.event.eventType == .invoke }
        let secondInvokeAt = try #require(invokes.first { $0.event.requestId == secondID }?.at)
        #expect(secondInvokeAt >= firstDone)
        #expect(second.receivedAt > firstDone)
        #expect(invokes.first { $0.event.requestId == firstID }?.event.tracing?.value == givenTrace)
        #expect(invokes.first { $0.event.requestId == secondID }?.event.tracing?.value == generated)

        // Subscription validation happened during init: out-of-bounds buffering is a 400 ValidationError.
        let bad = try #require(Records.kind(records, "badSubscribe").first)
        #expect(bad["status"] as? Int == 400)
        #expect((bad["body"] as? String)?.contains("ValidationError") == true)
        #expect(Records.kind(records, "subscribe").first?["status"] as? Int == 200)
        #expect(Records.kind(records, "telemetry").allSatisfy { $0["path"] as? String == "/telemetry" })

        let events = try Records.telemetry(records)
        let types = Set(events.map(\.type))
        for expected in ["platform.initStart", "platform.telemetrySubscription", "platform.initRuntimeDone", "platform.extension",
                         "platform.initReport", "platform.start", "platform.runtimeDone", "platform.report", "function", "extension"] {
            #expect(types.contains(expected), "no \(expected) among \(types.sorted())")
        }
        for event in events { #expect(WireTime.parseEpochMicros(event.time) != nil, "bad time \(event.time)") }
        let initStart = try #require(Records.initStarts(events).first)
        #expect(initStart.phase == .`init` && initStart.initializationType == .onDemand)
        #expect(initStart.functionName == "orders" && initStart.instanceMaxMemory == 128 * 1024 * 1024)
        for event in events {
            switch event.record {
            case .telemetrySubscription(let s): #expect(s.name == "recorder" && s.state == "Subscribed")
            case .initRuntimeDone(let r): #expect(r.status == .success)
            case .extensionState(let e): #expect(e.name == "recorder" && e.state == "Ready" && e.events == ["INVOKE", "SHUTDOWN"])
            case .initReport(let r): #expect(r.metrics.durationMs > 0 && r.status == .success)
            default: break
            }
        }
        let starts = events.compactMap { if case .start(let s) = $0.record { s } else { nil } }
        #expect(starts.first { $0.requestId == firstID }?.tracing?.value == givenTrace)
        #expect(events.contains { $0.record == .function(.text("hello from the handler")) })
        #expect(events.contains { $0.record == .extensionLog(.text("recorder ready")) })

        let dones = Records.runtimeDones(events)
        let firstDoneRecord = try #require(dones.first { $0.requestId == firstID })
        #expect(firstDoneRecord.status == .success)
        #expect((firstDoneRecord.metrics?.producedBytes ?? 0) > 0)
        #expect(firstDoneRecord.spans?.map(\.name) == ["responseLatency", "responseDuration"])
        #expect(dones.contains { $0.status == .error })

        let reports = Records.reports(events)
        let firstReport = try #require(reports.first { $0.requestId == firstID })
        #expect(firstReport.status == .success)
        #expect(firstReport.metrics.memorySizeMB == 128)
        #expect((firstReport.metrics.maxMemoryUsedMB ?? 0) > 10)
        #expect((firstReport.metrics.billedDurationMs ?? 0) >= Int(firstReport.metrics.durationMs))
        // Post-invoke extension work counts in the invoke's duration.
        #expect(firstReport.metrics.durationMs >= 500)
        #expect(firstReport.metrics.initDurationMs != nil)
        #expect(reports.first { $0.requestId == secondID }?.metrics.initDurationMs == nil)

        // The control plane refuses what real Lambda refuses, with its error bodies.
        let late = try await emulator.api(.POST, ExtensionsAPI.registerPath, body: #"{"events":["INVOKE"]}"#,
                                          headers: [(ExtensionsAPI.Header.name, "late")])
        #expect(late.status == 403 && late.json?["errorType"] as? String == WireErrorType.registrationClosed)
        let noID = try await emulator.api(.GET, ExtensionsAPI.nextPath)
        #expect(noID.status == 403 && noID.json?["errorType"] as? String == WireErrorType.missingExtensionIdentifier)
        let unknown = try await emulator.api(.PUT, TelemetryAPI.path, body: "{}",
                                             headers: [(ExtensionsAPI.Header.identifier, UUID().uuidString)])
        #expect(unknown.status == 403 && unknown.json?["errorType"] as? String == WireErrorType.unknownExtensionIdentifier)
        let initError = try await emulator.api(.POST, RuntimeAPI.initErrorPath, body: "{}")
        #expect(initError.status == 403 && initError.json?["errorType"] as? String == WireErrorType.invalidStateTransition)
        let nowhere = try await emulator.api(.GET, "/2019-01-01/nothing")
        #expect(nowhere.status == 404)

        // START/END/REPORT carry the real request id.
        let output = emulator.output
        #expect(output.contains("START RequestId: \(firstID) Version: $LATEST"))
        #expect(output.contains("END RequestId: \(firstID)"))
        #expect(output.contains("REPORT RequestId: \(firstID)\tDuration: "))
        #expect(output.contains("[function] hello from the handler"))

        // SIGTERM: SHUTDOWN spindown to the extension, which exits; the emulator exits 0.
        let status = await emulator.stop()
        stopped = true
        #expect(status == 0)
        records = ws.recorded()
        let shutdowns = try Records.extensionEvents(records).filter { $0.event.eventType == .shutdown }
        #expect(shutdowns.map { $0.event.shutdownReason } == [.spindown])
        if let shutdown = shutdowns.first {
            #expect(Double(shutdown.event.deadlineMs) / 1000 > shutdown.at)
        }
        #expect(!Records.kind(records, "exit").isEmpty)
    }

    @Test("an extension's init error fails init with Extension.InitError; the error-type header is required")
    func extensionInitError() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path], environment: ["EXT_INIT_ERROR": "1"])
        defer { emulator.terminate() }

        let reply = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(reply.status == 200)
        #expect(reply.headers["x-amz-function-error"] == "Unhandled")
        #expect(reply.json?["errorType"] as? String == WireErrorType.extensionInitError)
        #expect((reply.json?["errorMessage"] as? String)?.contains("Extension.ConfigInvalid") == true)
        let records = await EmulatorProcess.eventually(ws) { !Records.kind($0, "initError").isEmpty }
        let refused = try #require(Records.kind(records, "initErrorNoHeader").first)
        #expect(refused["status"] as? Int == 403)
        #expect((refused["body"] as? String)?.contains(WireErrorType.missingHeader) == true)
        #expect(Records.kind(records, "initError").first?["status"] as? Int == 202)
    }

    @Test("Logs API subscribers get the Logs API's records; the client context reaches the handler")
    func logsAPIAndClientContext() async throws {
        let ws = try Fixtures.Workspace(extensionNames: ["recorder", "logs-recorder"])
        defer { ws.remove() }
        // Not frozen: the last invoke's report must reach the subscriber while the sandbox is idle.
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "5", "--no-freeze"])
        defer { emulator.terminate() }

        let context = Data(#"{"custom":{"tenant":"blue"},"env":{},"client":{}}"#.utf8).base64EncodedString()
        let reply = try await emulator.invoke(#"{"action":"ok"}"#, headers: [("X-Amz-Client-Context", context)])
        #expect(reply.status == 200, "\(reply.body)")
        #expect((reply.json?["clientContext"] as? [String: String]) == ["tenant": "blue"])
        let requestID = try #require(reply.json?["requestId"] as? String)
        let badContext = try await emulator.invoke("{}", headers: [("X-Amz-Client-Context", "%%% not base64")])
        #expect(badContext.status == 400 && badContext.json?["errorType"] as? String == "InvalidRequestContentException")

        func logsTypes(_ records: [[String: Any]]) -> [String] {
            Records.kind(records, "logs").flatMap { ($0["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String } }
        }
        let records = await EmulatorProcess.eventually(ws) { logsTypes($0).contains("platform.report") }
        let types = logsTypes(records)
        for expected in ["platform.logsSubscription", "platform.start", "function", "platform.runtimeDone", "platform.end", "platform.report"] {
            #expect(types.contains(expected), "no \(expected) in \(types)")
        }
        #expect(!types.contains("platform.initStart") && !types.contains("extension"))
        let events = Records.kind(records, "logs").flatMap { $0["events"] as? [[String: Any]] ?? [] }
        let report = try #require(events.first { $0["type"] as? String == "platform.report" }?["record"] as? [String: Any])
        #expect(report["requestId"] as? String == requestID)
        #expect((report["metrics"] as? [String: Any])?["billedDurationMs"] != nil && report["status"] == nil)
        #expect(Records.kind(records, "logs").allSatisfy { $0["path"] as? String == "/logs" })
        // The Telemetry API subscriber alongside still gets the telemetry shapes.
        #expect(try Records.telemetry(records).contains { $0.type == "platform.initStart" })
    }

    @Test("timeout and crash reset the sandbox (SHUTDOWN timeout / failure) and the next invoke re-initialises")
    func timeoutAndCrashReset() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "1", "--eager-init"])
        defer { emulator.terminate() }
        let warm = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(warm.status == 200, "\(warm.body)")

        async let slow = emulator.invoke(#"{"action":"sleep","seconds":3}"#)
        // While the runtime works on it, a response for another request id is refused (400; 403 only until the
        // invoke has reached the sandbox).
        var wrongID = try await emulator.api(.POST, RuntimeAPI.responsePath(requestID: "not-the-request"), body: "{}")
        for _ in 0..<40 where wrongID.status == 403 {
            try await Task.sleep(for: .milliseconds(50))
            wrongID = try await emulator.api(.POST, RuntimeAPI.responsePath(requestID: "not-the-request"), body: "{}")
        }
        #expect(wrongID.status == 400 && wrongID.json?["errorType"] as? String == WireErrorType.invalidRequestID)
        let timedOut = try await slow
        #expect(timedOut.status == 200)
        #expect(timedOut.headers["x-amz-function-error"] == "Unhandled")
        #expect(timedOut.json?["errorType"] as? String == WireErrorType.sandboxTimedOut)
        #expect((timedOut.json?["errorMessage"] as? String)?.contains("Task timed out after 1.00 seconds") == true)

        let afterTimeout = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(afterTimeout.status == 200, "\(afterTimeout.body)")

        let crashed = try await emulator.invoke(#"{"action":"crash"}"#)
        #expect(crashed.status == 200)
        #expect(crashed.headers["x-amz-function-error"] == "Unhandled")
        #expect(crashed.json?["errorType"] as? String == WireErrorType.runtimeExitError)
        #expect((crashed.json?["errorMessage"] as? String)?.contains("exit status 7") == true)

        let afterCrash = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(afterCrash.status == 200, "\(afterCrash.body)")

        let records = await EmulatorProcess.eventually(ws) { recs in
            ((try? Records.shutdownReasons(recs)) ?? []).count >= 2
                && Records.initStarts((try? Records.telemetry(recs)) ?? []).count >= 3
        }
        #expect(try Records.shutdownReasons(records) == ["timeout", "failure"])
        let events = try Records.telemetry(records)
        #expect(Records.initStarts(events).map(\.phase) == [.`init`, .invoke, .invoke])
        let timeoutDone = Records.runtimeDones(events).filter { $0.status == .timeout }
        #expect(timeoutDone.count == 1)
        #expect(Records.reports(events).contains { $0.status == .timeout })
        #expect(Records.reports(events).contains { $0.status == .error && $0.errorType == WireErrorType.runtimeExitError })
    }

    @Test("an import error is an init error; the next invoke tries init again")
    func importErrorIsInitError() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "3"], handler: "broken.handler")
        defer { emulator.terminate() }

        let reply = try await emulator.invoke("{}")
        #expect(reply.status == 200)
        #expect(reply.headers["x-amz-function-error"] == "Unhandled")
        #expect(reply.json?["errorType"] as? String == "Runtime.ImportModuleError")
        let again = try await emulator.invoke("{}")
        #expect(again.json?["errorType"] as? String == "Runtime.ImportModuleError")

        let records = await EmulatorProcess.eventually(ws) { recs in
            ((try? Records.shutdownReasons(recs)) ?? []).count >= 2
        }
        #expect(try Records.shutdownReasons(records) == ["failure", "failure"])
        let events = try Records.telemetry(records)
        let initDone = events.compactMap { if case .initRuntimeDone(let r) = $0.record { r } else { nil } }
        #expect(initDone.first?.status == .error)
        #expect(initDone.first?.errorType == "Runtime.ImportModuleError")
        #expect(Records.initStarts(events).map(\.phase).prefix(2) == [.`init`, .invoke])
    }

    @Test("an extension whose registration name is not its file name is refused, and init fails")
    func nameMismatch() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "3"],
            environment: ["EXT_REGISTER_AS": "not-my-file-name"])
        defer { emulator.terminate() }

        let reply = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(reply.status == 200)
        #expect(reply.headers["x-amz-function-error"] == "Unhandled")
        #expect(reply.json?["errorType"] as? String == WireErrorType.extensionCrash)
        let records = await EmulatorProcess.eventually(ws) { !Records.kind($0, "register").isEmpty }
        let register = try #require(Records.kind(records, "register").first)
        #expect(register["status"] as? Int == 403)
        let body = try #require(register["body"] as? String)
        #expect(body.contains("ShutdownEventNotSupportedForInternalExtension"))
        #expect(body.contains(WireErrorType.invalidEventType))
    }

    @Test("a spin-down lets an invoke in its post-runtime phase end: its report goes out before SHUTDOWN")
    func spindownAfterTheResponse() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(
            ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "5"],
            environment: ["EXT_POST_INVOKE_SLEEP": "0.3"])
        defer { emulator.terminate() }

        // Stopped the moment the caller has its answer: the extension is still in its 0.3 s of post-invoke work.
        let reply = try await emulator.invoke(#"{"action":"ok"}"#)
        #expect(reply.status == 200, "\(reply.body)")
        let requestID = try #require(reply.json?["requestId"] as? String)
        #expect(await emulator.stop() == 0)

        let records = ws.recorded()
        let done = try #require(records.firstIndex { $0["kind"] as? String == "postInvokeDone" }, "\(emulator.output)")
        let shutdown = try #require(records.firstIndex {
            ($0["event"] as? [String: Any])?["eventType"] as? String == "SHUTDOWN"
        }, "\(emulator.output)")
        let report = try #require(Self.firstDelivery(of: "platform.report", for: requestID, in: records), "\(emulator.output)")
        #expect(done < report && report < shutdown, "post-invoke work, then the report, then SHUTDOWN")
        let reported = try #require(Records.reports(try Records.telemetry(records)).first { $0.requestId == requestID })
        #expect(reported.status == .success)
        #expect(reported.metrics.durationMs >= 300, "the post-runtime phase counts: \(reported.metrics.durationMs) ms")
        #expect(emulator.output.contains("REPORT RequestId: \(requestID)"))
    }

    @Test("a spin-down in the middle of the handler: 503 to the caller, runtimeDone and report (failure) before SHUTDOWN")
    func spindownDuringTheHandler() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(ws, arguments: ["--extensions", ws.extensions.path, "--timeout", "10"])
        defer { emulator.terminate() }

        async let slow = emulator.invoke(#"{"action":"sleep","seconds":5}"#)
        let invoked = await EmulatorProcess.eventually(ws) { recs in
            ((try? Records.extensionEvents(recs)) ?? []).contains { $0.event.eventType == .invoke }
        }
        let requestID = try #require(try Records.extensionEvents(invoked).first?.event.requestId)
        #expect(await emulator.stop() == 0)
        let reply = try await slow
        #expect(reply.status == 503, "\(reply.body)")

        let records = ws.recorded()
        let shutdown = try #require(records.firstIndex {
            ($0["event"] as? [String: Any])?["eventType"] as? String == "SHUTDOWN"
        }, "\(emulator.output)")
        let report = try #require(Self.firstDelivery(of: "platform.report", for: requestID, in: records), "\(emulator.output)")
        let runtimeDone = try #require(Self.firstDelivery(of: "platform.runtimeDone", for: requestID, in: records))
        #expect(runtimeDone <= report && report < shutdown)
        let events = try Records.telemetry(records)
        let done = try #require(Records.runtimeDones(events).first { $0.requestId == requestID })
        #expect(done.status == .failure && done.errorType == "Sandbox.Terminated")
        let reported = try #require(Records.reports(events).first { $0.requestId == requestID })
        #expect(reported.status == .failure && reported.errorType == "Sandbox.Terminated")
    }

    /// The index of the first telemetry delivery in `records` holding a `type` event for `requestID`.
    static func firstDelivery(of type: String, for requestID: String, in records: [[String: Any]]) -> Int? {
        records.firstIndex { record in
            guard record["kind"] as? String == "telemetry", let events = record["events"] as? [[String: Any]] else { return false }
            return events.contains {
                $0["type"] as? String == type && ($0["record"] as? [String: Any])?["requestId"] as? String == requestID
            }
        }
    }
}
