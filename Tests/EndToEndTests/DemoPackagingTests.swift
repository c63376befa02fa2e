// The Lambda layer as a user deploys it: scripts/package-layer.sh builds it, and the unzipped
// `extensions/lantern-extension` runs with an empty environment and no Swift libraries around.
// The release build takes several minutes; LANTERN_SKIP_PACKAGING=1 skips this suite.

import Foundation
import LanternStore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("layer packaging", .serialized, .enabled(if: ProcessInfo.processInfo.environment["LANTERN_SKIP_PACKAGING"] != "1"))
struct DemoPackagingTests {
    @Test("package-layer.sh builds a zip whose lantern-extension runs without the Swift toolchain", .timeLimit(.minutes(40)))
    func layerRunsWithoutToolchain() async throws {
        let folder = try TestPaths.temporaryDirectory("layer")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dist: URL
        if let prebuilt = ProcessInfo.processInfo.environment["LANTERN_LAYER_DIST"] {
            // scripts/test packages the layer before `swift test`, so the release build does not compete for the
            // CPU with the timing-sensitive end-to-end tests.
            dist = URL(fileURLWithPath: prebuilt)
        } else {
            dist = folder.appendingPathComponent("dist")
            // A scratch path of its own: `swift test` holds the lock on .build while the tests run.
            let build = try await DemoChild.run(
                URL(fileURLWithPath: "/bin/bash"), [TestPaths.packageRoot.appendingPathComponent("scripts/package-layer.sh").path],
                environment: ["DIST": dist.path, "SCRATCH_PATH": TestPaths.packageRoot.appendingPathComponent(".build-layer").path],
                currentDirectory: TestPaths.packageRoot, timeout: .seconds(35 * 60))
            try #require(build.status == 0, "package-layer.sh failed:\n\(build.stdout)\n\(build.stderr)")
            #expect(build.stdout.contains("bytes"))
        }

        let zips = try FileManager.default.contentsOfDirectory(atPath: dist.path).filter { $0.hasSuffix(".zip") }
        try #require(zips.count == 1, "\(zips)")
        #expect(zips[0].hasPrefix("lantern-extension-"))

        // Unzip with Python's zipfile and restore the mode bits, as Lambda does when it unpacks a layer.
        let opt = folder.appendingPathComponent("opt")
        let listing = try await DemoChild.run(
            TestPaths.python,
            ["-c", """
            import os, sys, zipfile
            with zipfile.ZipFile(sys.argv[1]) as z:
                for info in z.infolist():
                    z.extract(info, sys.argv[2])
                    os.chmod(os.path.join(sys.argv[2], info.filename), (info.external_attr >> 16) & 0o777)
                    print(info.filename, oct((info.external_attr >> 16) & 0o777))
            """, dist.appendingPathComponent(zips[0]).path, opt.path],
            timeout: .seconds(120))
        try #require(listing.status == 0, "\(listing.stderr)")
        // `zip` also stores the folder entry; Python's zipfile fallback does not. Only files matter to Lambda.
        let files = listing.stdout.split(separator: "\n").filter { !$0.hasPrefix("extensions/ ") }
        #expect(files == ["extensions/lantern-extension 0o755"])

        let binary = opt.appendingPathComponent("extensions/lantern-extension")
        let ldd = try await DemoChild.run(URL(fileURLWithPath: "/usr/bin/ldd"), [binary.path], timeout: .seconds(60))
        #expect(ldd.status == 0)
        #expect(!ldd.stdout.contains("libswift"), "\(ldd.stdout)")
        #expect(!ldd.stdout.contains("not found"), "\(ldd.stdout)")

        // env -i: no PATH, no LD_LIBRARY_PATH, nothing inherited from the toolchain.
        let run = try await DemoChild.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["-i", "LD_LIBRARY_PATH=", "./extensions/lantern-extension", "--version"],
            replacingEnvironment: [:], currentDirectory: opt, timeout: .seconds(60))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(LanternVersion.current), "\(run.stdout)")

        // And it does the job: the unzipped binary as the demo's extension, against the recording APM Server.
        let db = folder.appendingPathComponent("layer.db")
        let events = folder.appendingPathComponent("apm-events.ndjson")
        let demo = try await DemoChild.run(
            TestPaths.binary("lantern"),
            ["demo", "--no-dash", "--count", "12", "--rate", "20", "--seed", "3", "--mix", "success=80,error=20",
             "--extension", binary.path, "--db", db.path, "--apm-events", events.path],
            currentDirectory: folder, timeout: .seconds(300))
        let log = (try? String(contentsOf: folder.appendingPathComponent("layer.log"), encoding: .utf8)) ?? ""
        try #require(!demo.timedOut && demo.status == 0, "demo with the layer binary failed: \(demo.stderr)\n\(log.suffix(3000))")
        #expect(log.contains("EXTENSION lantern-extension registered"), "\(log.suffix(2000))")
        // As Lambda runs it: unprivileged (the emulator, started as root here, drops to the sandbox user).
        if geteuid() == 0 { #expect(log.contains("sandbox runs as uid 993 / gid 990"), "\(log.prefix(600))") }
        try await DemoTests.expectCleanRun(db: db, events: events, invocations: 12)
    }
}
