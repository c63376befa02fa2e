import AsyncHTTPClient
import Foundation
import NIOPosix
import TestSupport
import Testing

/// The collector in a sandbox that freezes between invocations, as Lambda's does (the emulator's default): nothing
/// of the collector runs while idle, so what it owes the APM Server goes during the next invocation or at SHUTDOWN,
/// over connections the server may have closed meanwhile, with timers that counted the frozen time.
@Suite(.serialized)
struct FrozenSandboxTests {
    func scenario(apmMode: String, _ body: (URL, HTTPClient, RecordingAPMServer) async throws -> Void) async throws {
        try await endToEndScenario("lantern-frozen", apmMode: apmMode) { directory, http, server in
            try await body(directory, http, try #require(server))
        }
    }

    /// Ids of the transactions the server accepted (a request it answered 503 was recorded too, and is retried).
    func transactions(_ server: RecordingAPMServer) async throws -> [String] {
        try await server.recorded()
            .filter { $0["kind"] as? String == "intake" && $0["status"] as? Int == 202 }
            .flatMap { $0["events"] as? [[String: Any]] ?? [] }
            .compactMap { ($0["transaction"] as? [String: Any])?["id"] as? String }
    }

    @Test("background strategy: nothing is sent while frozen; the buffer goes during the next invocation and at SHUTDOWN, once")
    func backgroundStrategyWhileFrozen() async throws {
        try await scenario(apmMode: "{}") { directory, http, server in
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server,
                                            extraEnvironment: ["ELASTIC_APM_SEND_STRATEGY": "background"])
            do {
                for round in 1...3 {
                    let (status, _, body) = try await sandbox.invoke(#"{"mode":"ok"}"#)
                    #expect(status == 200, "\(body)")
                    try await Task.sleep(for: .milliseconds(300))
                    let idleStart = try await transactions(server).count
                    try await Task.sleep(for: .seconds(1))
                    #expect(try await transactions(server).count == idleStart, "sent while frozen (round \(round))")
                }
                // The first invocations' data reached the server during the later ones, before any SHUTDOWN.
                #expect(try await transactions(server).count >= 2, "\(sandbox.output)")
            } catch {
                await sandbox.stop()
                throw error
            }
            // SHUTDOWN reaches the frozen collector (thawed first), which flushes the rest and exits.
            await sandbox.stop()
            let ids = try await transactions(server)
            #expect(ids.count == 3, "\(ids)")
            #expect(Set(ids).count == ids.count, "a transaction was sent twice: \(ids)")
            #expect(try await server.schemaErrors().isEmpty)
            let shutdown = try #require(try StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns").first)
            #expect(shutdown["reason"] as? String == "spindown")
            #expect(shutdown["exited_at"] is Int)
            let failed = try StoreRows.read(sandbox.storePath, "SELECT * FROM flushes WHERE outcome != 'sent'")
            #expect(failed.isEmpty, "\(failed)")
        }
    }

    @Test("a kept-alive connection the APM Server closed while the sandbox was frozen: the next send succeeds, nothing lost")
    func keepAliveClosedWhileFrozen() async throws {
        try await scenario(apmMode: #"{"idle_timeout": 0.3}"#) { directory, http, server in
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server)
            do {
                for _ in 1...3 {
                    let (status, _, body) = try await sandbox.invoke(#"{"mode":"ok"}"#)
                    #expect(status == 200, "\(body)")
                    // Frozen for longer than the server keeps an idle connection.
                    try await Task.sleep(for: .seconds(1))
                }
                #expect(try await server.idleClosed() >= 2, "the server never closed an idle connection")
            } catch {
                await sandbox.stop()
                throw error
            }
            await sandbox.stop()
            let ids = try await transactions(server)
            #expect(ids.count == 3, "\(ids) \(sandbox.output)")
            #expect(Set(ids).count == ids.count, "\(ids)")
            let failed = try StoreRows.read(sandbox.storePath, "SELECT trigger, outcome, error FROM flushes WHERE outcome != 'sent'")
            #expect(failed.isEmpty, "\(failed)")
            let rows = try StoreRows.read(sandbox.storePath, "SELECT flush_reason FROM invocations")
            #expect(rows.count == 3 && rows.allSatisfy { $0["flush_reason"] as? String == "agent" }, "\(rows)")
        }
    }

    @Test("backoff counts the frozen time: a batch that failed goes out in the invocations right after a freeze longer than the backoff, not at SHUTDOWN")
    func backoffAcrossFreeze() async throws {
        try await scenario(apmMode: "{}") { directory, http, server in
            // No function logs: they would fill a background batch (by size) whose 503 a freeze can hold back until
            // the thaw, and a backoff starts when the failure is seen. This test is about a failure seen before it.
            let sandbox = try await Sandbox(directory: directory, http: http, apmServer: server,
                                            extraEnvironment: ["ELASTIC_APM_LAMBDA_CAPTURE_LOGS": "false"])
            do {
                // A warm environment first, so that the next invocation sends one batch, its own, and the 503 is
                // its answer, before the release.
                #expect(try await sandbox.invoke(#"{"mode":"ok"}"#).0 == 200)
                try await server.setMode(#"{"status": 503, "recover_after": 1}"#)
                #expect(try await sandbox.invoke(#"{"mode":"ok"}"#).0 == 200)
                // Elastic's first backoff is 0–5 s (plus jitter), spent frozen.
                try await Task.sleep(for: .seconds(6))
                // The probe that follows may take longer than the flush waits for it (the recording server checks
                // every event against the schemas) and then finishes in the next invocation: two quick ones, well
                // inside the backoff had the frozen time not counted.
                #expect(try await sandbox.invoke(#"{"mode":"ok"}"#).0 == 200)
                #expect(try await sandbox.invoke(#"{"mode":"ok"}"#).0 == 200)
                let arrived = await eventually(timeout: .seconds(3)) { (try? await transactions(server).count) ?? 0 >= 3 }
                let seen = try await transactions(server)
                #expect(arrived, "\(seen) \(sandbox.output)")
            } catch {
                await sandbox.stop()
                throw error
            }
            await sandbox.stop()
            let ids = try await transactions(server)
            #expect(ids.count == 4 && Set(ids).count == 4, "\(ids) \(sandbox.output)")
            let flushes = try StoreRows.read(sandbox.storePath, "SELECT trigger, outcome FROM flushes ORDER BY id")
            #expect(flushes.contains { $0["outcome"] as? String == "failed" }, "\(flushes)")
        }
    }
}
