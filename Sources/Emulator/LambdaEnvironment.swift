import Foundation

/// The environment variables Lambda gives the runtime and the extensions.
struct LambdaEnvironment: Sendable {
    let configuration: EmulatorConfiguration
    let runtimeAPI: String
    let logStream: String

    /// Variables Lambda removes from the extensions' environment.
    static let hiddenFromExtensions: Set<String> = [
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_XRAY_CONTEXT_MISSING",
        "AWS_XRAY_DAEMON_ADDRESS", "LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT", "_AWS_XRAY_DAEMON_ADDRESS",
        "_AWS_XRAY_DAEMON_PORT", "_HANDLER",
    ]

    /// A log stream name like Lambda's: `2026/11/25/[$LATEST]<32 hex>`.
    static func makeLogStream(version: String, now: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: now)
        func two(_ v: Int?) -> String { let s = String(v ?? 0); return s.count < 2 ? "0" + s : s }
        return "\(c.year ?? 1970)/\(two(c.month))/\(two(c.day))/[\(version)]\(TraceID.hex(16))"
    }

    /// The runtime's environment: the emulator's own plus Lambda's variables.
    var forRuntime: [String: String] {
        var env = configuration.baseEnvironment
        let c = configuration
        env["AWS_LAMBDA_RUNTIME_API"] = runtimeAPI
        env["AWS_LAMBDA_FUNCTION_NAME"] = c.functionName
        env["AWS_LAMBDA_FUNCTION_VERSION"] = c.functionVersion
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = String(c.memoryMB)
        env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/\(c.functionName)"
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = logStream
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = c.mode.initializationType.rawValue
        if case .managedInstances(let n) = c.mode {
            // Tells the runtime how many workers to run (awslambdaric forks that many) and the extensions the mode.
            env["AWS_LAMBDA_MAX_CONCURRENCY"] = String(n)
        } else {
            env.removeValue(forKey: "AWS_LAMBDA_MAX_CONCURRENCY")
        }
        if env["AWS_REGION"]?.isEmpty ?? true { env["AWS_REGION"] = c.region }
        if env["AWS_DEFAULT_REGION"]?.isEmpty ?? true { env["AWS_DEFAULT_REGION"] = c.region }
        if let handler = c.handler { env["_HANDLER"] = handler }
        if let root = c.taskRoot { env["LAMBDA_TASK_ROOT"] = root }
        // Lambda's runtimes log unbuffered; without this a Python child's prints arrive late, in blocks.
        if env["PYTHONUNBUFFERED"] == nil { env["PYTHONUNBUFFERED"] = "1" }
        // Lets a child (the collector) know it runs under Lantern's emulator.
        env["LANTERN_EMULATOR"] = "1"
        return env
    }

    /// An extension's environment: the runtime's minus what Lambda hides from extensions.
    var forExtensions: [String: String] {
        forRuntime.filter { !Self.hiddenFromExtensions.contains($0.key) }
    }
}
