import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing

/// Lambda Managed Instances for real: `lantern emulate --max-concurrency 4` runs four awslambdaric workers, each with
/// elastic-apm (`capture_serverless`), and `lantern-extension` beside them; a client keeps four invocations in flight.
@Suite(.serialized)
struct ManagedInstancesEndToEndTests {
    static let workers = 4

    /// Invokes until answered, waiting out a busy environment (all workers taken: the emulator answers 429).
    func invokeWhenFree(_ sandbox: Sandbox, _ payload: String) async throws -> (Int, String?, String) {
        for _ in 0..<400 {
            let answer = try await sandbox.invoke(payload)
            if answer.0 != 429 { return answer }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw HarnessError("the environment stayed busy")
    }

    @Test func overlappingInvocationsAreEachRecordedAndForwardedOnce() async throws {
        try await endToEndScenario(apmMode: "{}") { directory, http, server in
            let server = try #require(server)
            let sandbox = try await Sandbox(
                directory: directory, http: http, timeoutSeconds: 2, apmServer: server,
                emulatorFlags: ["--max-concurrency", String(Self.workers)])
            // 4 lanes × 11 = 44 invocations that overlap: short sleeps, three handled errors, one timeout.
            var payloads: [[String]] = []
            for lane in 0..<Self.workers {
                payloads.append((0..<11).map { index in
                    if lane == 0 && index == 5 { return #"{"mode":"sleep","seconds":4}"# }
                    if lane == 1 && index % 4 == 1 { return #"{"mode":"raise"}"# }
                    return #"{"mode":"sleep","seconds":0.\#((lane + index) % 3 + 1)}"#
                })
            }
            var answers: [(Int, String?, String)] = []
            do {
                answers = try await withThrowingTaskGroup(of: [(Int, String?, String)].self) { group in
                    for lane in payloads {
                        group.addTask {
                            var results: [(Int, String?, String)] = []
                            for payload in lane { results.append(try await invokeWhenFree(sandbox, payload)) }
                            return results
                        }
                    }
                    var all: [(Int, String?, String)] = []
                    for try await lane in group { all += lane }
                    return all
                }
                // Nothing freezes and nothing waits for SHUTDOWN: the agents' data reaches the APM Server while the
                // environment runs on.
                let deliveredWhileRunning = await eventually(timeout: .seconds(15)) {
                    ((try? await server.events()) ?? []).filter { $0.0 == "transaction" }.count >= 43
                }
                #expect(deliveredWhileRunning, "\(sandbox.output)")
                await sandbox.stop()
            } catch {
                await sandbox.stop()
                throw error
            }
            #expect(answers.count == 44)
            #expect(answers.filter { $0.1 == nil }.count == 40, "40 succeed: \(answers.map { "\($0.0) \($0.1 ?? "-")" })")
            #expect(answers.filter { $0.1 != nil }.count == 4, "three errors and one timeout")

            // The store: every invocation complete, with its concurrency; the timeout's proxy attributed to it.
            let rows = try StoreRows.read(sandbox.storePath, "SELECT * FROM invocations ORDER BY invoked_at")
            #expect(rows.count == 44, "\(sandbox.output)")
            for row in rows {
                #expect(row["flush_reason"] as? String == "report", "\(row)")
                #expect(row["status"] is String && row["duration_ms"] is Double && row["started_at"] is Int, "\(row)")
                #expect(row["in_flight"] is Int && row["transaction_id"] is String, "\(row)")
                #expect(row["released_at"] == nil || row["released_at"] is NSNull)
            }
            let inFlight = rows.compactMap { $0["in_flight"] as? Int }
            #expect(inFlight.max() ?? 0 >= 2, "the invocations overlapped: \(inFlight)")
            #expect(inFlight.max() ?? 0 <= Self.workers)
            #expect(Set(rows.compactMap { $0["request_id"] as? String }).count == 44)
            let statuses = rows.compactMap { $0["status"] as? String }
            #expect(statuses.filter { $0 == "success" }.count == 40)
            #expect(statuses.filter { $0 == "error" }.count == 3)
            let timedOut = try #require(rows.first { $0["status"] as? String == "timeout" })
            let proxies = try StoreRows.read(sandbox.storePath, "SELECT * FROM proxy_transactions")
            #expect(proxies.count == 1, "only the timed-out invocation lost its transaction: \(proxies)")
            #expect(proxies.first?["request_id"] as? String == timedOut["request_id"] as? String)
            // Made at its report, or at the SHUTDOWN of the reset that follows when the report comes after it.
            #expect(["report", "shutdown"].contains(proxies.first?["trigger"] as? String ?? ""), "\(proxies)")
            #expect(proxies.first?["result"] as? String == "timeout")

            // The emulator resets the environment after a timeout (docs/emulator.md): SHUTDOWN `timeout`, then a new
            // environment for the invocations after it. Both are Managed Instances environments, each exits in time.
            let environments = try StoreRows.read(sandbox.storePath, "SELECT * FROM environments ORDER BY started_at")
            #expect(!environments.isEmpty)
            for environment in environments {
                #expect(environment["initialization_type"] as? String == "lambda-managed-instances", "\(environment)")
                #expect(environment["max_concurrency"] as? Int == Self.workers)
                #expect(environment["telemetry"] as? String == "subscribed")
            }
            let shutdowns = try StoreRows.read(sandbox.storePath, "SELECT * FROM shutdowns ORDER BY received_at")
            #expect(shutdowns.count == environments.count)
            #expect(shutdowns.last?["reason"] as? String == "spindown")
            for shutdown in shutdowns {
                let exitMs = Double((shutdown["exited_at"] as? Int ?? 0) - (shutdown["received_at"] as? Int ?? 0)) / 1000
                #expect(exitMs >= 0 && exitMs < 2_000, "SHUTDOWN to exit: \(exitMs) ms")
            }

            // The APM Server: every transaction and span once, schema-valid, metadata first (the server checks both);
            // the proxy for the timed-out request names that request.
            let schemaErrors = try await server.schemaErrors()
            #expect(schemaErrors.isEmpty, "\(schemaErrors)")
            let events = try await server.events()
            let transactions = events.filter { $0.0 == "transaction" }.map(\.1)
            let transactionIDs = transactions.compactMap { $0["id"] as? String }
            #expect(transactionIDs.count == 44, "43 from the agents and one proxy")
            #expect(Set(transactionIDs).count == transactionIDs.count, "no transaction forwarded twice")
            let spanIDs = events.filter { $0.0 == "span" }.compactMap { $0.1["id"] as? String }
            #expect(Set(spanIDs).count == spanIDs.count, "no span forwarded twice")
            let proxy = try #require(transactions.first { $0["id"] as? String == proxies.first?["transaction_id"] as? String })
            #expect((proxy["faas"] as? [String: Any])?["execution"] as? String == timedOut["request_id"] as? String)
            #expect(proxy["result"] as? String == "timeout", "\(proxy)")
            let requestIDs = Set(rows.compactMap { $0["request_id"] as? String })
            let executions = transactions.compactMap { ($0["faas"] as? [String: Any])?["execution"] as? String }
            #expect(Set(executions) == requestIDs, "each invocation's transaction names its own request")
            let metricsets = events.filter { $0.0 == "metricset" && ($0.1["faas"] as? [String: Any]) != nil }
            #expect(metricsets.count >= 44, "a faas metricset per report")
        }
    }

    @Test func elasticsStyleExtensionFailsInitWhereLanternRuns() async throws {
        // An extension that registers INVOKE (as Elastic's does) makes the environment fail INIT on Managed Instances.
        try await endToEndScenario(apmMode: nil) { directory, http, _ in
            let legacy = directory.appendingPathComponent("legacy")
            try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
            let script = legacy.appendingPathComponent("invoke-registering-extension")
            try """
            #!/bin/sh
            exec \(TestPaths.python.path) -c '
            import json, os, urllib.request
            api = os.environ["AWS_LAMBDA_RUNTIME_API"]
            req = urllib.request.Request("http://%s/2020-01-01/extension/register" % api,
                data=json.dumps({"events": ["INVOKE", "SHUTDOWN"]}).encode(),
                headers={"Lambda-Extension-Name": "invoke-registering-extension"}, method="POST")
            try:
                urllib.request.urlopen(req)
            except Exception as error:
                print("register refused:", error, flush=True)
                raise SystemExit(1)
            '
            """.write(to: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            let sandbox = try await Sandbox(
                directory: directory, http: http, apmServer: nil,
                emulatorFlags: ["--max-concurrency", "2"], extensionsFolder: legacy)
            let answer: (Int, String?, String)
            do {
                answer = try await sandbox.invoke(#"{"mode":"ok"}"#)
                await sandbox.stop()
            } catch {
                await sandbox.stop()
                throw error
            }
            #expect(answer.0 != 200 || answer.1 != nil, "the invoke reports the failed INIT: \(answer)")
            #expect(answer.2.contains("Extension"), "\(answer.2)")
        }
    }
}
