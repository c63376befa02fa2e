// `lantern demo` as people run it: from an ordinary account, and killed without warning.

import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("lantern demo, unprivileged and killed", .serialized)
struct DemoSandboxTests {
    private var lantern: URL { TestPaths.binary("lantern") }

    /// The command prefix that runs as an ordinary user: uid 993 through setpriv when the tests run as root (CI),
    /// nothing when they already run unprivileged.
    private static var asOrdinaryUser: [String] {
        geteuid() == 0 ? ["/usr/bin/setpriv", "--reuid=993", "--regid=990", "--clear-groups"] : []
    }

    @Test("lantern demo --no-dash, entirely as an unprivileged user: store and APM events complete", .timeLimit(.minutes(5)))
    func demoAsOrdinaryUser() async throws {
        let folder = try TestPaths.temporaryDirectory("demo-user")
        defer { try? FileManager.default.removeItem(at: folder) }
        if geteuid() == 0 { chown(folder.path, 993, 990) }
        let db = folder.appendingPathComponent("demo.db")
        let events = folder.appendingPathComponent("apm-events.ndjson")
        let prefix = Self.asOrdinaryUser
        let command = prefix + ["/usr/bin/env", "HOME=\(folder.path)", lantern.path]
        let result = try await DemoChild.run(
            URL(fileURLWithPath: command[0]),
            Array(command.dropFirst()) + [
                "demo", "--no-dash", "--count", "12", "--rate", "20", "--seed", "5", "--mix", "success=75,error=25",
                "--db", db.path, "--apm-events", events.path,
            ],
            currentDirectory: folder, timeout: .seconds(240))
        let log = (try? String(contentsOf: folder.appendingPathComponent("demo.log"), encoding: .utf8)) ?? ""
        try #require(!result.timedOut && result.status == 0, "demo failed: \(result.stderr)\n\(result.stdout)\n\(log.suffix(3000))")
        // Nothing runs as root: the emulator is this user, and so are its children.
        #expect(log.contains("(the emulator's user)"), "\(log.prefix(600))")
        let owner = try FileManager.default.attributesOfItem(atPath: db.path)[.ownerAccountID] as? Int
        #expect(owner == Int(geteuid() == 0 ? 993 : geteuid()))
        try await DemoTests.expectCleanRun(db: db, events: events, invocations: 12)
    }

    @Test("kill -9 of lantern demo: the emulator, the collector and the function end with it, its temporary folder goes too",
          .timeLimit(.minutes(3)))
    func killedDemoLeavesNothing() async throws {
        let folder = try TestPaths.temporaryDirectory("demo-killed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("demo.db")
        let process = Process()
        process.executableURL = lantern
        process.arguments = ["demo", "--no-dash", "--count", "100000", "--rate", "5", "--db", db.path]
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // Running: the store has invocations and the sandbox's processes exist.
        var family: [Int32] = []
        let running = await eventually(timeout: .seconds(60)) {
            family = Child.descendants(of: process.processIdentifier)
            let rows = (try? StoreRows.read(db.path, "SELECT count(*) AS n FROM invocations").first?["n"] as? Int) ?? 0
            return rows >= 2 && family.count >= 3
        }
        try #require(running, "the demo did not get going: \(family)")
        let work = family.compactMap { Self.argument(after: "--remove-on-exit", of: $0) }.first
        let workFolder = try #require(work, "no emulator with --remove-on-exit among \(family)")
        #expect(FileManager.default.fileExists(atPath: workFolder))

        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let gone = await eventually(timeout: .seconds(10)) { family.allSatisfy { !Self.alive($0) } }
        defer { for pid in family where Self.alive(pid) { kill(pid, SIGKILL) } }
        #expect(gone, "still running after the demo was killed: \(family.filter(Self.alive))")
        #expect(await eventually(timeout: .seconds(5)) { !FileManager.default.fileExists(atPath: workFolder) },
                "\(workFolder) was left behind")
        // The sandbox spun down as on Ctrl-C: the collector recorded its SHUTDOWN.
        let reasons = try StoreRows.read(db.path, "SELECT reason FROM shutdowns").compactMap { $0["reason"] as? String }
        #expect(reasons.contains("spindown"), "\(reasons)")
    }

    /// Whether `pid` still runs (a zombie does not).
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// The command-line argument after `flag` of process `pid`.
    static func argument(after flag: String, of pid: Int32) -> String? {
        guard let raw = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8) else { return nil }
        let arguments = raw.split(separator: "\0").map(String.init)
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }
}
