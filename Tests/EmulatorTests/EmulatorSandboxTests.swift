import Foundation
import LambdaWire
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The sandbox as Lambda runs it: unprivileged children, frozen while idle, telemetry held for the thaw.
@Suite("lantern emulate: Lambda's sandbox", .serialized)
struct EmulatorSandboxTests {
    @Test("started as root, the runtime and the extensions run as uid 993 / gid 990 with no groups; --keep-root keeps root",
          .enabled(if: geteuid() == 0, "only root can switch users"))
    func unprivilegedChildren() async throws {
        for keepRoot in [false, true] {
            let ws = try Fixtures.Workspace()
            defer { ws.remove() }
            let emulator = try await EmulatorProcess.start(
                ws, arguments: ["--extensions", ws.extensions.path] + (keepRoot ? ["--keep-root"] : []))
            defer { emulator.terminate() }
            let reply = try await emulator.invoke(#"{"action":"whoami"}"#)
            #expect(reply.status == 200, "\(reply.body)")
            let expected = keepRoot ? 0 : 993
            #expect(reply.json?["uid"] as? Int == expected, "\(reply.body)")
            #expect(reply.json?["gid"] as? Int == (keepRoot ? 0 : 990), "\(reply.body)")
            if !keepRoot { #expect((reply.json?["groups"] as? [Int]) == [], "\(reply.body)") }
            let records = await EmulatorProcess.eventually(ws) { !Records.kind($0, "register").isEmpty }
            #expect(Records.kind(records, "register").first?["uid"] as? Int == expected)
            #expect(emulator.output.contains(keepRoot ? "sandbox runs as uid 0" : "sandbox runs as uid 993 / gid 990"))
            await emulator.stop()
        }
    }

    @Test("a bootstrap the sandbox user cannot reach fails init with a message that says so",
          .enabled(if: geteuid() == 0, "only root can switch users"))
    func unreachableBootstrap() async throws {
        let ws = try Fixtures.Workspace(extensionNames: [])
        defer { ws.remove() }
        let hidden = ws.root.appendingPathComponent("private")
        try FileManager.default.createDirectory(at: hidden, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let bootstrap = hidden.appendingPathComponent("bootstrap")
        try "#!/bin/sh\nexit 0\n".write(to: bootstrap, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bootstrap.path)
        let emulator = try await EmulatorProcess.start(ws, arguments: [], bootstrap: [bootstrap.path])
        defer { emulator.terminate() }
        let reply = try await emulator.invoke("{}")
        #expect(reply.headers["x-amz-function-error"] == "Unhandled", "\(reply.body)")
        #expect(reply.body.contains("sandbox user"), "\(reply.body)")
        await emulator.stop()
    }

    @Test("idle sandbox frozen: neither the function's nor the extension's background thread runs until the next invoke; --no-freeze keeps them running")
    func freezeStopsBackgroundThreads() async throws {
        for freeze in [true, false] {
            let ws = try Fixtures.Workspace()
            defer { ws.remove() }
            let emulator = try await EmulatorProcess.start(
                ws, arguments: ["--extensions", ws.extensions.path] + (freeze ? [] : ["--no-freeze"]),
                handler: "heartbeat.handler",
                environment: ["HEARTBEAT_FILE": ws.heartbeats.path, "EXT_HEARTBEAT_FILE": ws.extensionHeartbeats.path])
            defer { emulator.terminate() }
            #expect(try await emulator.invoke("{}").status == 200)
            try await Task.sleep(for: .milliseconds(300))
            let before = (Fixtures.Workspace.lines(ws.heartbeats), Fixtures.Workspace.lines(ws.extensionHeartbeats))
            try await Task.sleep(for: .seconds(1))
            let idle = (Fixtures.Workspace.lines(ws.heartbeats) - before.0, Fixtures.Workspace.lines(ws.extensionHeartbeats) - before.1)
            if freeze {
                // 50 beats a second when running; a frozen sandbox writes none (one may straddle the freeze).
                #expect(idle.0 <= 1, "function beats while frozen: \(idle.0)")
                #expect(idle.1 <= 1, "extension beats while frozen: \(idle.1)")
            } else {
                #expect(idle.0 >= 20, "function beats while idle, not frozen: \(idle.0)")
                #expect(idle.1 >= 20, "extension beats while idle, not frozen: \(idle.1)")
            }
            // The next invoke thaws both, and they go on.
            let thawed = (Fixtures.Workspace.lines(ws.heartbeats), Fixtures.Workspace.lines(ws.extensionHeartbeats))
            let started = ContinuousClock.now
            #expect(try await emulator.invoke(#"{"seconds":0.3}"#).status == 200)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(Fixtures.Workspace.lines(ws.heartbeats) > thawed.0 + 5)
            #expect(Fixtures.Workspace.lines(ws.extensionHeartbeats) > thawed.1 + 5)
            await emulator.stop()
        }
    }

    @Test("telemetry for a frozen subscriber waits for the thaw: an invoke's platform.report arrives during the next one")
    func telemetryHeldWhileFrozen() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(ws, arguments: ["--extensions", ws.extensions.path])
        defer { emulator.terminate() }
        let first = try await emulator.invoke(#"{"action":"ok"}"#)
        let firstID = try #require(first.json?["requestId"] as? String)
        try await Task.sleep(for: .milliseconds(500))
        let secondSentAt = Date().timeIntervalSince1970
        #expect(try await emulator.invoke(#"{"action":"ok"}"#).status == 200)
        let records = await EmulatorProcess.eventually(ws) { recs in
            Records.reports((try? Records.telemetry(recs)) ?? []).contains { $0.requestId == firstID }
        }
        let delivery = records.first { record in
            guard record["kind"] as? String == "telemetry",
                  let events = try? Records.telemetry([record]) else { return false }
            return Records.reports(events).contains { $0.requestId == firstID }
        }
        let deliveredAt = try #require(delivery?["at"] as? Double, "the first report was never delivered")
        #expect(deliveredAt >= secondSentAt, "the report was delivered to a frozen extension")
        await emulator.stop()
    }

    @Test("SHUTDOWN reaches a frozen extension: it is thawed, records the event and exits")
    func shutdownThawsFrozenExtension() async throws {
        let ws = try Fixtures.Workspace()
        defer { ws.remove() }
        let emulator = try await EmulatorProcess.start(ws, arguments: ["--extensions", ws.extensions.path])
        #expect(try await emulator.invoke(#"{"action":"ok"}"#).status == 200)
        try await Task.sleep(for: .milliseconds(500))
        let started = ContinuousClock.now
        let status = await emulator.stop()
        #expect(status == 0)
        #expect(ContinuousClock.now - started < .seconds(3))
        let records = ws.recorded()
        #expect(try Records.shutdownReasons(records) == ["spindown"])
        #expect(!Records.kind(records, "exit").isEmpty)
    }
}
