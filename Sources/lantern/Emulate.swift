import ArgumentParser
import Emulator
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `lantern emulate`: a local Lambda sandbox, wire-compatible with AWS's Runtime Interface Emulator.
struct Emulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate",
        abstract: "Run a function and its extensions in a local Lambda sandbox (RIE-compatible, with Telemetry and Logs APIs).",
        discussion: """
            Starts BOOTSTRAP as the function's runtime and every executable in --extensions as an external extension, \
            serves the Runtime, Extensions, Telemetry and Logs APIs on --api-address, and the invoke endpoint \
            POST /2015-03-31/functions/function/invocations on --address.

            Example (an awslambdaric handler app.py with handler(event, context), and an extension):
              lantern emulate --extensions ./extensions --timeout 10 -- python -m awslambdaric app.handler
              curl -d '{"hello":"world"}' http://127.0.0.1:9000/2015-03-31/functions/function/invocations

            Environment variables as in RIE: AWS_LAMBDA_FUNCTION_TIMEOUT, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, \
            AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_HANDLER or _HANDLER, AWS_REGION. \
            Flags win over them. AWS_LAMBDA_MAX_CONCURRENCY=N (or --max-concurrency N) runs Lambda Managed \
            Instances, as RIE does. SIGINT/SIGTERM/SIGHUP sends SHUTDOWN (spindown) to the extensions, then exits.

            The sandbox is Lambda's: started as root, the emulator runs the runtime and the extensions as the \
            unprivileged sandbox user (uid 993 / gid 990; --keep-root keeps root), and it freezes them (SIGSTOP) \
            while they all wait in `next`, thawing them just before the next event (--no-freeze: never).
            """)

    @Option(help: "Invoke endpoint address host:port (port 0 picks a free one).")
    var address = "127.0.0.1:9000"

    @Option(name: .customLong("api-address"), help: "Address of the Lambda APIs (AWS_LAMBDA_RUNTIME_API) host:port.")
    var apiAddress = "127.0.0.1:9001"

    @Option(help: "Function timeout in seconds (default: AWS_LAMBDA_FUNCTION_TIMEOUT, else 3).")
    var timeout: Double?

    @Option(help: "Memory size in MB (default: AWS_LAMBDA_FUNCTION_MEMORY_SIZE, else 128).")
    var memory: Int?

    @Option(name: .customLong("function-name"), help: "Function name (default: AWS_LAMBDA_FUNCTION_NAME, else test_function).")
    var functionName: String?

    @Option(name: .customLong("function-version"), help: "Function version (default: AWS_LAMBDA_FUNCTION_VERSION, else $LATEST).")
    var functionVersion: String?

    @Option(help: "Handler (_HANDLER); default: AWS_LAMBDA_FUNCTION_HANDLER or _HANDLER, else the last bootstrap argument.")
    var handler: String?

    @Option(help: "AWS region for the ARN and AWS_REGION (default: AWS_REGION, else us-east-1).")
    var region: String?

    @Option(name: .customLong("task-root"), help: "LAMBDA_TASK_ROOT and the runtime's working directory.")
    var taskRoot: String?

    @Option(help: "Folder of external extensions (repeatable). Default: /opt/extensions if it exists.")
    var extensions: [String] = []

    @Flag(name: .customLong("eager-init"), help: "Initialise at start-up instead of on the first invoke.")
    var eagerInit = false

    @Option(help: "Replies of the invoke endpoint: lambda (real Lambda's) or rie (RIE's).")
    var dialect = "lambda"

    @Flag(name: .customLong("no-telemetry"), help: "Answer Telemetry/Logs API subscriptions with RIE's 202 Not Supported.")
    var noTelemetry = false

    @Option(name: .customLong("max-queue"), help: "Invokes that may wait while one runs; more get 429.")
    var maxQueue = 16

    @Option(name: .customLong("max-concurrency"),
            help: "Lambda Managed Instances: up to N invocations at once on one runtime with N workers, never frozen, extensions SHUTDOWN only (default: AWS_LAMBDA_MAX_CONCURRENCY; absent: classic).")
    var maxConcurrency: Int?

    @Option(name: .customLong("init-timeout"), help: "Init time limit in seconds.")
    var initTimeout: Double = 10

    @Option(name: .customLong("ready-file"), help: "Write {\"invoke\":URL,\"api\":host:port} to this file once listening.")
    var readyFile: String?

    @Flag(name: .customLong("keep-root"), help: "Started as root: run the runtime and extensions as root too (Lambda never does).")
    var keepRoot = false

    @Flag(name: .customLong("no-freeze"), help: "Do not freeze the runtime and extensions between invocations.")
    var noFreeze = false

    @Option(name: .customLong("remove-on-exit"), help: .hidden)
    var removeOnExit: String?

    @Flag(help: "Do not echo the function's and extensions' output.")
    var quiet = false

    @Argument(parsing: .postTerminator, help: "The runtime: BOOTSTRAP [ARGS...] after --.")
    var bootstrap: [String] = []

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        func nonEmpty(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }

        var config = EmulatorConfiguration(bootstrap: bootstrap)
        do {
            config.invokeAddress = try ListenAddress(parsing: address)
            config.apiAddress = try ListenAddress(parsing: apiAddress)
        } catch {
            throw ValidationError(error.message)
        }
        if let t = timeout {
            config.timeoutSeconds = t
        } else if let raw = nonEmpty("AWS_LAMBDA_FUNCTION_TIMEOUT") {
            guard let t = Double(raw) else { throw ValidationError("AWS_LAMBDA_FUNCTION_TIMEOUT='\(raw)' is not a number of seconds") }
            config.timeoutSeconds = t
        }
        if let m = memory {
            config.memoryMB = m
        } else if let raw = nonEmpty("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
            guard let m = Int(raw) else { throw ValidationError("AWS_LAMBDA_FUNCTION_MEMORY_SIZE='\(raw)' is not a whole number of MB") }
            config.memoryMB = m
        }
        config.functionName = functionName ?? nonEmpty("AWS_LAMBDA_FUNCTION_NAME") ?? config.functionName
        config.functionVersion = functionVersion ?? nonEmpty("AWS_LAMBDA_FUNCTION_VERSION") ?? config.functionVersion
        config.handler = handler ?? nonEmpty("AWS_LAMBDA_FUNCTION_HANDLER") ?? nonEmpty("_HANDLER")
            ?? (bootstrap.count > 1 ? bootstrap.last : nil)
        config.region = region ?? nonEmpty("AWS_REGION") ?? nonEmpty("AWS_DEFAULT_REGION") ?? config.region
        config.taskRoot = taskRoot ?? nonEmpty("LAMBDA_TASK_ROOT")
        if extensions.isEmpty {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "/opt/extensions", isDirectory: &isDir), isDir.boolValue {
                config.extensionDirectories = ["/opt/extensions"]
            }
        } else {
            config.extensionDirectories = extensions
        }
        guard let dialect = InvokeDialect(rawValue: dialect.lowercased()) else {
            throw ValidationError("--dialect must be lambda or rie, got '\(dialect)'")
        }
        config.dialect = dialect
        config.telemetryUnavailable = noTelemetry
        config.eagerInit = eagerInit
        config.maxQueue = maxQueue
        if let n = maxConcurrency {
            config.mode = .managedInstances(maxConcurrency: n)
        } else if let raw = nonEmpty("AWS_LAMBDA_MAX_CONCURRENCY") {
            guard let n = Int(raw) else { throw ValidationError("AWS_LAMBDA_MAX_CONCURRENCY='\(raw)' is not a whole number") }
            config.mode = .managedInstances(maxConcurrency: n)
        }
        config.initTimeoutSeconds = initTimeout
        config.readyFile = readyFile
        config.quiet = quiet
        config.sandboxUser = SandboxUser.forEmulator(keepRoot: keepRoot)
        // The demo's pid is the emulator's business, not the function's.
        config.baseEnvironment.removeValue(forKey: ParentWatch.variable)
        config.freeze = !noFreeze
        do {
            try config.validate()
        } catch {
            throw ValidationError(error.message)
        }

        var logger = Logger(label: "lantern.emulate")
        logger.logLevel = .warning
        let emulator = Emulator(configuration: config)
        let services = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: emulator)], gracefulShutdownSignals: [.sigterm, .sigint, .sighup], logger: logger))
        // Started by `lantern demo`: spin down when the demo is gone, however it died, and take its files along.
        let watch = ParentWatch.fromEnvironment { _ = kill(getpid(), SIGTERM) }
        defer {
            watch?.cancel()
            if let removeOnExit { try? FileManager.default.removeItem(atPath: removeOnExit) }
        }
        do {
            try await services.run()
        } catch let error as EmulatorError {
            FileHandle.standardError.write(Data("lantern emulate: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
    }
}
