import ArgumentParser
import Collector
import Foundation

/// `lantern collect`: the collector of `lantern-extension`, in the foreground.
struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the collector (the lantern-extension) in the foreground.",
        discussion: """
            Registers with the Extensions API at AWS_LAMBDA_RUNTIME_API (e.g. a `lantern emulate` sandbox), \
            receives APM agent data on ELASTIC_APM_DATA_RECEIVER_SERVER_PORT, subscribes to the Telemetry API \
            and records everything in the store, exactly as lantern-extension does. Configuration comes from \
            the ELASTIC_APM_* and LANTERN_* variables (see docs/collector.md); the options below override them. \
            Ctrl-C shuts down as SHUTDOWN would.
            """)

    @Option(name: .long, help: "Extensions API address, host:port (AWS_LAMBDA_RUNTIME_API).")
    var runtimeAPI: String?

    @Option(name: .long, help: "Store path (LANTERN_DB); 'off' for none.")
    var db: String?

    @Option(name: .long, help: "Name to register under (LANTERN_EXTENSION_NAME). Lambda wants the extension's file name.")
    var name: String?

    @Option(name: .long, help: "APM Server URL (ELASTIC_APM_LAMBDA_APM_SERVER); unset = record only.")
    var apmServer: String?

    @Option(name: .long, help: "Agent receiver port (ELASTIC_APM_DATA_RECEIVER_SERVER_PORT).")
    var port: Int?

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        if let runtimeAPI { environment["AWS_LAMBDA_RUNTIME_API"] = runtimeAPI }
        if let db { environment["LANTERN_DB"] = db }
        if let name { environment["LANTERN_EXTENSION_NAME"] = name }
        if let apmServer { environment["ELASTIC_APM_LAMBDA_APM_SERVER"] = apmServer }
        if let port { environment["ELASTIC_APM_DATA_RECEIVER_SERVER_PORT"] = String(port) }
        let code = await CollectorProcess.run(environment: environment, arguments: CommandLine.arguments)
        if code != 0 { throw ExitCode(code) }
    }
}
