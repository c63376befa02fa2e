// `lantern demo`: everything in one command. A recording APM Server, `lantern emulate` running the
// built-in sample function with this binary's collector as its extension, an invoker that drives a
// realistic mix, and `lantern dash` in the foreground (or a summary with --no-dash).

import ArgumentParser
import AsyncHTTPClient
import Foundation
import Subprocess
import SystemPackage  // FilePath, which Subprocess uses for executables (swift-system, a Subprocess dependency)

#if canImport(Glibc)
import Glibc
#endif

/// `lantern demo`.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the emulator, the collector and a sample function under a live dashboard.",
        discussion: """
            Starts a recording APM Server on loopback, `lantern emulate` with the built-in sample function and \
            this binary's collector as the `lantern-extension` extension, and invokes the function at --rate with \
            the --mix of behaviours. The dashboard runs in the foreground; Ctrl-C (or quitting the dashboard) stops \
            the invoker, spins the sandbox down (SHUTDOWN spindown) and leaves the store for `lantern query`.
            """
    )

    @Option(help: "Invocations per second.")
    var rate: Double = 4

    @Option(help: "Number of invocations (default: until Ctrl-C; 50 with --no-dash).")
    var count: Int?

    @Option(help: "Weights of the behaviours: success, slow, error, timeout, crash.", transform: { try DemoMix(parsing: $0) })
    var mix: DemoMix = .standard

    @Flag(help: "No dashboard: invoke, spin down, print a summary.")
    var noDash = false

    @Option(help: "The store the collector writes (default: $LANTERN_DB or ./lantern-demo.db).")
    var db: String?

    @Option(help: "The function timeout in seconds.")
    var timeout: Int = 3

    @Option(help: "Seed for the order of the mix and the sleep times (default: random).")
    var seed: UInt64?

    @Option(help: "Where the emulator's output goes (default: the store's path with .log).")
    var log: String?

    @Option(help: "Append every event the recording APM Server receives to this file (ndjson).")
    var apmEvents: String?

    @Flag(help: "Run the function without the collector extension (a baseline; the agent's sends then fail).")
    var withoutCollector = false

    @Option(name: .customLong("extension"), help: ArgumentHelp(
        "Run this lantern-extension binary as the extension instead of this build's collector.",
        discussion: "For example the unzipped layer's extensions/lantern-extension, to try what you deploy."))
    var extensionBinary: String?

    @Option(name: .customLong("max-concurrency"),
            help: "Run on Lambda Managed Instances with this max concurrency (passed to lantern emulate); the invoker keeps up to N invocations in flight.")
    var maxConcurrency: Int?

    func validate() throws {
        if let n = maxConcurrency, !(1...64).contains(n) { throw ValidationError("--max-concurrency must be between 1 and 64") }
        guard rate > 0, rate <= 1_000 else { throw ValidationError("--rate must be between 0 and 1000 invocations per second") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        guard (1...900).contains(timeout) else { throw ValidationError("--timeout must be between 1 and 900 seconds") }
    }

    func run() async throws {
        let lantern = DemoSetup.lanternExecutable()
        let dbPath = absolute(db ?? ProcessInfo.processInfo.environment["LANTERN_DB"] ?? "lantern-demo.db")
        let logPath = absolute(log ?? (dbPath.hasSuffix(".db") ? String(dbPath.dropLast(3)) : dbPath) + ".log")
        let seed = self.seed ?? UInt64.random(in: 1...999_999)
        // Until `lantern dash` is part of this build, the demo runs headless rather than fail.
        let headless = noDash || !Lantern.hasSubcommand("dash")
        if !noDash && headless {
            FileHandle.standardError.write(Data("lantern demo: this build has no `lantern dash`; running with --no-dash\n".utf8))
        }
        let count = self.count ?? (headless ? 50 : nil)
        // Likewise without `lantern collect`: the function runs without the extension (and without its agent).
        let withoutCollector = self.withoutCollector || !Lantern.hasSubcommand("collect")
        if !self.withoutCollector && withoutCollector {
            FileHandle.standardError.write(Data("lantern demo: this build has no `lantern collect`; running without the collector\n".utf8))
        }

        let apm = try await RecordingAPMServer.start(eventsFile: apmEvents.map { URL(fileURLWithPath: absolute($0)) })
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let extensions = try DemoSetup.makeExtensionsFolder(
            in: work, lantern: lantern, collector: !withoutCollector, binary: extensionBinary.map(absolute))
        let receiverPort = try await DemoSetup.freePort()

        let emulator = DemoEmulator(
            executable: lantern,
            arguments: [
                "emulate", "--address", "127.0.0.1:0", "--api-address", "127.0.0.1:0",
                "--extensions", extensions.path, "--timeout", String(timeout), "--function-name", "lantern-demo",
                // The emulator outlives a demo killed with SIGKILL only long enough to notice; it removes this then.
                "--remove-on-exit", work.path,
            ] + (maxConcurrency.map { ["--max-concurrency", String($0), "--max-queue", String(2 * $0)] } ?? []) + [
                "--", lantern, "sample-function",
            ],
            environment: [
                "ELASTIC_APM_LAMBDA_APM_SERVER": apm.url,
                "ELASTIC_APM_DATA_RECEIVER_SERVER_PORT": String(receiverPort),
                "LANTERN_DB": dbPath,
                "LANTERN_DEMO_MIX": mix.description,
                "LANTERN_DEMO_AGENT": withoutCollector ? "off" : "on",
                ParentWatch.variable: String(getpid()),
            ],
            logFile: URL(fileURLWithPath: logPath))
        let interrupts = DemoInterrupts()
        let tally = InvokeTally()
        let started = ContinuousClock.now

        if headless {
            print("lantern demo: \(count.map(String.init) ?? "unbounded") invocations at \(rate)/s, mix \(mix), seed \(seed)"
                + (maxConcurrency.map { ", Lambda Managed Instances (up to \($0) in flight)" } ?? ""))
            print("  store \(dbPath), emulator log \(logPath), recording APM Server \(apm.url)")
        }

        let status: TerminationStatus = try await withThrowingTaskGroup(of: TerminationStatus?.self) { group in
            group.addTask { try await emulator.run() }
            do {
                let url = try await emulator.invokeURL(timeout: .seconds(120))
                let invoker = DemoInvoker(
                    client: HTTPClient.shared, url: url, mix: mix, count: count, rate: rate, seed: seed,
                    functionTimeoutSeconds: timeout, concurrency: maxConcurrency ?? 1)
                if headless {
                    await runUntilDoneOrInterrupted(invoker: invoker, tally: tally, interrupts: interrupts)
                } else {
                    try await runUnderDashboard(invoker: invoker, tally: tally, lantern: lantern, dbPath: dbPath)
                }
            } catch {
                emulator.send(SIGTERM)
                group.cancelAll()
                throw error
            }
            // SIGTERM = SHUTDOWN spindown for the extension, which records it and exits; then the emulator exits.
            emulator.send(SIGTERM)
            let killer = Task {
                try await Task.sleep(for: .seconds(30))
                emulator.send(SIGKILL)
            }
            defer { killer.cancel() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw DemoError(.childFailed, "lantern emulate ended without a status")
        }

        let elapsed = ContinuousClock.now - started
        await apm.close()
        await DemoSummary(
            tally: tally, apm: apm.snapshot(), apmURL: apm.url, elapsed: elapsed, mix: mix, seed: seed,
            dbPath: dbPath, logPath: logPath, emulatorStatus: status, lantern: lantern
        ).print()
    }

    /// Headless: invoke until the count is reached or SIGINT/SIGTERM arrives.
    private func runUntilDoneOrInterrupted(invoker: DemoInvoker, tally: InvokeTally, interrupts: DemoInterrupts) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await invoker.run(tally: tally) }
            let signals = interrupts.signals
            group.addTask {
                for await signal in signals {
                    FileHandle.standardError.write(Data("\nlantern demo: got signal \(signal), stopping\n".utf8))
                    return
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Dashboard: `lantern dash` owns the terminal; the invoker runs behind it until the dashboard exits.
    /// Ctrl-C reaches the dashboard too (same process group), which ends it; the emulator is in its own group.
    private func runUnderDashboard(invoker: DemoInvoker, tally: InvokeTally, lantern: String, dbPath: String) async throws {
        let invoking = Task { await invoker.run(tally: tally) }
        defer { invoking.cancel() }
        let result = try await Subprocess.run(
            .path(FilePath(lantern)), arguments: ["dash", "--db", dbPath],
            environment: .inherit.updating([Environment.Key(stringLiteral: ParentWatch.variable): String(getpid())]),
            input: .currentStandardInput, output: .currentStandardOutput, error: .currentStandardError)
        if !result.terminationStatus.isSuccess, case .exited(let code) = result.terminationStatus {
            FileHandle.standardError.write(Data("lantern demo: lantern dash exited with status \(code)\n".utf8))
        }
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).standardized.path
    }
}

extension Lantern {
    /// Whether this build of `lantern` has the subcommand `name` (the demo degrades without `dash` or `query`).
    static func hasSubcommand(_ name: String) -> Bool {
        configuration.subcommands.contains { $0._commandName == name }
    }
}
