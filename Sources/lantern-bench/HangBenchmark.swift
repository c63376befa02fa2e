// `lantern-bench hang`: the cost per invoke while the APM Server hangs (accepts connections, reads the
// requests, never answers). Elastic's extension waits out its 3 s forwarder timeout on every invoke;
// the target for lantern-extension is ≤ 50 ms of post-runtime time per invoke after the first.

import ArgumentParser
import AsyncHTTPClient
import NIOCore
import NIOPosix

/// Hanging APM Server benchmark.
struct HangBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hang", abstract: "Post-runtime time per invoke of lantern-extension while the APM Server never answers.")

    @Option(help: "Sequential invokes.") var invokes = 20
    @Option(help: "A lantern-extension binary to measure instead of the one beside lantern-bench (e.g. the layer's).")
    var collector: String?
    @OptionGroup var sandbox: SandboxOptions
    @OptionGroup var json: JSONOutput

    func run() async throws {
        guard invokes > 1 else { throw ValidationError("--invokes must be at least 2") }
        let result = try await Self.measure(invokes: invokes, collector: collector, settings: sandbox.settings)
        for line in result.summary { print(line) }
        try json.write(result)
    }

    struct Result: Sendable, Codable {
        var invokes: Int
        var firstPostRuntimeMs: Double
        /// Post-runtime time of the invokes after the first.
        var laterPostRuntimeMs: Percentiles
        var laterCallerMs: Percentiles
        var wallSeconds: Double
        /// How the emulator ran the sandbox (its own words) and the flags that asked for it.
        var sandbox: String = ""
        var settings = SandboxSettings()

        var summary: [String] {
            [
                "hang: \(invokes) sequential invokes, APM Server accepts and never answers (ELASTIC_APM_DATA_FORWARDER_TIMEOUT default 3 s)",
                "  \(sandbox)",
                "  first invoke post-runtime \(fixed(firstPostRuntimeMs)) ms; after the first: post-runtime p50 \(fixed(laterPostRuntimeMs.p50)) ms, max \(fixed(laterPostRuntimeMs.max)) ms; caller p50 \(fixed(laterCallerMs.p50)) ms; wall \(fixed(wallSeconds)) s",
            ]
        }
    }

    static func measure(invokes: Int, collector: String? = nil, settings: SandboxSettings = SandboxSettings()) async throws -> Result {
        let binaries = try BenchBinaries.locate(collector: collector)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // No handlers: requests are read and dropped, no response ever goes out, connections stay open.
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress?.port ?? 0
        let client = HTTPClient()
        let sandbox = try await SandboxRun.start(
            binaries, setup: .collector, apmServerURL: "http://127.0.0.1:\(port)", settings: settings)
        let description = await sandbox.sandboxDescription
        do {
            var caller: [Double] = []
            let start = ContinuousClock.now
            for _ in 0..<invokes { caller.append(try await sandbox.invoke(client)) }
            let reports = try await sandbox.waitForLines("REPORT", count: invokes, timeout: .seconds(120))
            let wall = (ContinuousClock.now - start).milliseconds / 1000
            let post = reports.compactMap { field("Post Runtime Duration", in: $0) }
            guard post.count == invokes else { throw BenchFailure("REPORT lines lack Post Runtime Duration") }
            await sandbox.stop()
            sandbox.removeFiles()
            try await client.shutdown()
            try await server.close()
            return Result(
                invokes: invokes, firstPostRuntimeMs: post[0], laterPostRuntimeMs: Percentiles(Array(post.dropFirst())),
                laterCallerMs: Percentiles(Array(caller.dropFirst())), wallSeconds: wall,
                sandbox: description, settings: settings)
        } catch {
            await sandbox.stop()
            try? await client.shutdown()
            try? await server.close()
            throw error
        }
    }
}
