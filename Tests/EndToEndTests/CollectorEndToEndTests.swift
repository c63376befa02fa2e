import AsyncHTTPClient
import Foundation
import NIOPosix
import TestSupport
import Testing

/// The collector in its real surroundings: `lantern emulate` + `lantern-extension` + an awslambdaric
/// handler instrumented with elastic-apm + the recording APM Server. Checks the store and what the
/// APM Server received.
@Suite(.serialized)
struct CollectorEndToEndTests {
    /// Runs `body` with a fresh folder, an HTTP client and (optionally) an APM Server; stops everything after.
    func scenario(
        apmMode: String? = "{}", _ body: (URL, HTTPClient, RecordingAPMServer?) async throws -> Void
    ) async throws {
        try await endToEndScenario(apmMode: apmMode, body)
    }

    /// Runs `body` against a started sandbox and always stops it.
    func withSandbox(_ sandbox: Sandbox, _ body: (Sandbox) async throws -> Void) async throws {
        do {
            try await body(sandbox)
        } catch {
            await sandbox.stop()
            throw error
        }
    }

    func invocations(_ sandbox: Sandbox) throws -> [[String: Any]] {
        try StoreRows.read(sandbox.storePath, "SELECT * FROM invocations ORDER BY invoked_at")
    }

    @Test func normalInvocationsEndByAgentAndSpindownIsRecorded() async throws {
        try await scenario { directory, http, server in
            let server = try #require(server)
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server)
            try await withSandbox(sandbox) { sandbox in
                for _ in 0..<3 {
                    let (status, error, body) = try await sandbox.invoke(#"{"mode":"ok"}"#)
                    #expect(status == 200, "\(body)")
                    #expect(error == nil)
                }
                await sandbox.stop()
            }
            let rows = try invocations(sandbox)
            #expect(rows.count == 3, "\(sandbox.output)")
            for row in rows {
                #expect(row["flush_reason"] as? String == "agent", "\(row)")
                #expect(row["status"] as? String == "success")
                #expect(row["released_at"] is Int)
                #expect(row["agent_flushed_at"] is Int)
                #expect(row["transaction_id"] is String)
                #expect((row["agent_events"] as? Int ?? 0) > 0)
                // The last one too: the emulator ends an invoke still in its post-runtime phase (platform.report)
                // and delivers the report before SHUTDOWN, even when it is stopped right after the response.
                #expect(row["billed_duration_ms"] is Int, "report metrics of \(row["request_id"] ?? "?"): \(sandbox.output)")
            }
            #expect(rows.first?["cold_start"] as? Int == 1)
            #expect(rows.last?["cold_start"] as? Int == 0)

            let shutdowns = try StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns")
            #expect(shutdowns.count == 1)
            #expect(shutdowns.first?["reason"] as? String == "spindown")
            #expect(shutdowns.first?["proxies_created"] as? Int == 0)
            #expect(shutdowns.first?["exited_at"] is Int)
            let environment = try #require(try StoreRows.read(sandbox.storePath, "SELECT * FROM environments").first)
            #expect(environment["telemetry"] as? String == "subscribed")
            #expect(environment["source"] as? String == "emulator")
            #expect(environment["shutdown_reason"] as? String == "spindown")
            let kinds = try StoreRows.read(sandbox.storePath, "SELECT kind FROM lifecycle_events ORDER BY id")
                .compactMap { $0["kind"] as? String }
            for kind in ["startup", "registered", "subscribed", "process_started", "terminating", "process_ended", "terminated"] {
                #expect(kinds.contains(kind), "lifecycle \(kind) missing from \(kinds)")
            }

            let events = try await server.events()
            #expect(events.filter { $0.0 == "transaction" }.count >= 3)
            #expect(events.contains { $0.0 == "metricset" && ($0.1["samples"] as? [String: Any])?["faas.billed_duration"] != nil })
            let schemaErrors = try await server.schemaErrors()
            #expect(schemaErrors.isEmpty, "\(schemaErrors)")
        }
    }

    @Test func aHandlerWithoutAgentEndsByRuntimeDone() async throws {
        try await scenario { directory, http, server in
            let sandbox = try await Sandbox(directory: directory, http: http, handler: "handler.plain", apmServer: server)
            try await withSandbox(sandbox) { sandbox in
                let (status, _, _) = try await sandbox.invoke("{}")
                #expect(status == 200)
                await sandbox.stop()
            }
            let rows = try invocations(sandbox)
            #expect(rows.count == 1, "\(sandbox.output)")
            #expect(rows.first?["flush_reason"] as? String == "runtimeDone")
            #expect(rows.first?["runtime_done_at"] is Int)
            #expect((rows.first?["log_lines"] as? Int ?? 0) >= 1)
        }
    }

    @Test func aTimeoutMakesAProxyTransactionAndShutdownTimeout() async throws {
        try await scenario { directory, http, server in
            let server = try #require(server)
            // A 1 s function timeout: the deadline margin is computed in ms, not whole seconds.
            let sandbox = try await Sandbox(directory: directory, http: http, timeoutSeconds: 1, apmServer: server)
            try await withSandbox(sandbox) { sandbox in
                let (_, error, _) = try await sandbox.invoke(#"{"mode":"sleep","seconds":3}"#)
                #expect(error != nil)
                #expect(await eventually {
                    (try? StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns"))?.isEmpty == false
                }, "\(sandbox.output)")
                await sandbox.stop()
            }
            let proxies = try StoreRows.read(sandbox.storePath, "SELECT * FROM proxy_transactions")
            #expect(proxies.count == 1, "\(sandbox.output)")
            #expect(proxies.first?["result"] as? String == "timeout")
            #expect(proxies.first?["outcome"] as? String == "failure")
            let shutdown = try #require(try StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns ORDER BY id").first)
            #expect(shutdown["reason"] as? String == "timeout")
            let row = try #require(try invocations(sandbox).first)
            #expect(row["flush_reason"] as? String == "timeout")

            let transactions = try await server.events().filter { $0.0 == "transaction" }
            #expect(transactions.contains { $0.1["result"] as? String == "timeout" })
            let schemaErrors = try await server.schemaErrors()
            #expect(schemaErrors.isEmpty, "\(schemaErrors)")
        }
    }

    @Test func aCrashYieldsFailure() async throws {
        try await scenario { directory, http, server in
            let server = try #require(server)
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server)
            try await withSandbox(sandbox) { sandbox in
                _ = try await sandbox.invoke(#"{"mode":"crash"}"#)
                #expect(await eventually {
                    (try? StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns"))?.isEmpty == false
                }, "\(sandbox.output)")
                await sandbox.stop()
            }
            let shutdown = try #require(try StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns ORDER BY id").first)
            #expect(shutdown["reason"] as? String == "failure")
            let proxies = try StoreRows.read(sandbox.storePath, "SELECT * FROM proxy_transactions")
            #expect(proxies.count == 1, "\(sandbox.output)")
            #expect(proxies.first?["outcome"] as? String == "failure")
            let transactions = try await server.events().filter { $0.0 == "transaction" }
            #expect(transactions.contains { $0.1["outcome"] as? String == "failure" })
        }
    }

    /// As under AWS's RIE (no Telemetry API): a crash resets the environment while its collector still waits for the
    /// invocation's end, and the collector is SIGKILLed. The next environment's collector closes the invocation out.
    @Test func aKilledEnvironmentIsClosedOutByTheNext() async throws {
        try await scenario { directory, http, server in
            let server = try #require(server)
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server, emulatorFlags: ["--no-telemetry"])
            try await withSandbox(sandbox) { sandbox in
                #expect(try await sandbox.invoke(#"{"mode":"ok"}"#).0 == 200)
                _ = try await sandbox.invoke(#"{"mode":"crash"}"#)
                // The next invoke re-initialises: a new collector, the same store.
                #expect(try await sandbox.invoke(#"{"mode":"ok"}"#).0 == 200, "\(sandbox.output)")
                await sandbox.stop()
            }
            let rows = try invocations(sandbox)
            try #require(rows.count == 3, "\(rows) \(sandbox.output)")
            let crashed = rows[1]
            let crashedID = try #require(crashed["request_id"] as? String)
            #expect(crashed["flush_reason"] as? String == "shutdown", "\(crashed)")
            #expect(crashed["status"] as? String == "failure", "\(crashed)")
            let proxies = try StoreRows.read(sandbox.storePath, "SELECT * FROM proxy_transactions")
            #expect(proxies.count == 1, "\(proxies)")
            #expect(proxies.first?["request_id"] as? String == crashedID)
            let environments = try StoreRows.read(sandbox.storePath, "SELECT id, shutdown_reason FROM environments ORDER BY started_at")
            #expect(environments.count == 2)
            #expect(environments.first?["shutdown_reason"] as? String == "killed", "\(environments)")
            let transactionID = try #require(crashed["transaction_id"] as? String)
            let sent = try await server.events().filter { $0.0 == "transaction" && $0.1["id"] as? String == transactionID }
            #expect(sent.count == 1, "the proxy of the crashed invocation reached the APM Server once: \(sent.count)")
            #expect(sent.first?.1["outcome"] as? String == "failure")
            #expect(try await server.schemaErrors().isEmpty)
            let kinds = try StoreRows.read(sandbox.storePath, "SELECT kind FROM lifecycle_events").compactMap { $0["kind"] as? String }
            #expect(kinds.contains("closed_out"))
        }
    }

    /// No Telemetry API: the emulator answers the subscription as RIE does (`--no-telemetry`: 202 Not Supported,
    /// nothing delivered), so agent flushes and deadlines alone end invocations.
    @Test func withoutTelemetryInvocationsEndOnAgentFlushAndDeadline() async throws {
        let noTelemetry = ["--no-telemetry"]
        try await scenario { directory, http, server in
            let sandbox = try await Sandbox(directory: directory, http: http, timeoutSeconds: 1, apmServer: server,
                                            emulatorFlags: noTelemetry)
            try await withSandbox(sandbox) { sandbox in
                let (status, _, _) = try await sandbox.invoke(#"{"mode":"ok"}"#)
                #expect(status == 200)
                await sandbox.stop()
            }
            let environment = try #require(try StoreRows.read(sandbox.storePath, "SELECT * FROM environments").first)
            #expect(environment["telemetry"] as? String == "unavailable", "\(sandbox.output)")
            let row = try #require(try invocations(sandbox).first)
            #expect(row["flush_reason"] as? String == "agent")
            #expect(row["runtime_done_at"] == nil || row["runtime_done_at"] is NSNull)
            let kinds = try StoreRows.read(sandbox.storePath, "SELECT kind FROM lifecycle_events").compactMap { $0["kind"] as? String }
            #expect(kinds.contains("subscription_failed"))
            #expect(try StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns").count == 1)
        }
        try await scenario { directory, http, server in
            let sandbox = try await Sandbox(directory: directory, http: http, handler: "handler.plain",
                                            timeoutSeconds: 1, apmServer: server, emulatorFlags: noTelemetry)
            try await withSandbox(sandbox) { sandbox in
                _ = try await sandbox.invoke("{}")
                await sandbox.stop()
            }
            let row = try #require(try invocations(sandbox).first)
            #expect(row["flush_reason"] as? String == "timeout", "no agent, no telemetry: the deadline ends it")
            // The deadline margin for a 1 s timeout is 100 ms: released before the deadline, not a second early.
            let released = try #require(row["released_at"] as? Int)
            let deadline = try #require(row["deadline_at"] as? Int)
            #expect(released < deadline)
            #expect(deadline - released < 600_000)
        }
    }

    @Test func shutdownWithNoInvoke() async throws {
        try await scenario { directory, http, server in
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server, eagerInit: true)
            try await withSandbox(sandbox) { sandbox in
                #expect(await eventually {
                    ((try? StoreRows.read(sandbox.storePath, "SELECT ready_at FROM environments"))?.first?["ready_at"] is Int)
                }, "\(sandbox.output)")
                await sandbox.stop()
            }
            #expect(try invocations(sandbox).isEmpty)
            let shutdown = try #require(try StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns").first)
            #expect(shutdown["pending_invocations"] as? Int == 0)
            #expect(shutdown["proxies_created"] as? Int == 0)
            // Nothing pending: the collector exits well inside the 2,000 ms budget.
            let received = try #require(shutdown["received_at"] as? Int)
            let exited = try #require(shutdown["exited_at"] as? Int)
            #expect(exited - received < 1_500_000)
        }
    }

    @Test func anUnusableStoreNeverBreaksTheFunctionOrForwarding() async throws {
        try await scenario { directory, http, server in
            let server = try #require(server)
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server,
                                            storePath: "/nonexistent-dir/lantern.db")
            try await withSandbox(sandbox) { sandbox in
                let (status, _, _) = try await sandbox.invoke(#"{"mode":"ok"}"#)
                #expect(status == 200)
                await sandbox.stop()
            }
            #expect(sandbox.output.contains("cannot be used"), "\(sandbox.output)")
            let transactions = try await server.events().filter { $0.0 == "transaction" }
            #expect(transactions.count >= 1)
        }
    }
}

/// Whether the binaries and the Python peers the end-to-end tests need are there.
enum EndToEnd {
    /// What is missing, or nil.
    static var missing: String? {
        let files = [
            TestPaths.binary("lantern").path, TestPaths.binary("lantern-extension").path, TestPaths.python.path,
            TestPaths.packageRoot.appendingPathComponent("Tests/peers/apm_server.py").path,
        ]
        for file in files where !FileManager.default.fileExists(atPath: file) {
            return "missing \(file): run scripts/test (it builds the binaries and the Python venv)"
        }
        return nil
    }
}
