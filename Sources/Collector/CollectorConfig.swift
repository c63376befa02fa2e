// The collector's configuration: Elastic's `ELASTIC_APM_*` variables with Elastic's defaults (so the
// collector is a drop-in for apm-lambda-extension), plus `LANTERN_*` for what only Lantern has.
// Parsing is pure (an environment dictionary in, a value out) so every bad value has a test.

import Logging

/// How buffered APM data leaves the environment at the end of an invocation.
public enum SendStrategy: String, Sendable, CaseIterable {
    /// Send what is buffered before asking for the next event (Elastic's default).
    case syncflush
    /// Let it go out during the next invocation (or at SHUTDOWN).
    case background
}

/// Everything the collector reads from its environment at start-up.
public struct CollectorConfig: Sendable {
    /// The APM Server base URL; nil = record only (the store still fills).
    public var apmServerURL: String?
    public var secretToken: String?
    public var apiKey: String?
    public var sendStrategy: SendStrategy = .syncflush
    /// The agent receiver's port on loopback.
    public var receiverPort: Int = 8200
    /// Read/write timeout of one agent request.
    public var receiverTimeout: Duration = .seconds(15)
    /// Bound on one request to the APM Server.
    public var forwarderTimeout: Duration = .seconds(3)
    /// How many agent requests may wait for the forwarder before new ones are dropped (and counted).
    public var agentBufferSize: Int = 100
    public var logLevel: Logger.Level = .info
    /// Subscribe to the `function` log stream and forward lines as APM `log` events.
    public var captureLogs: Bool = true
    /// Also subscribe to the `extension` log stream (Lantern only).
    public var captureExtensionLogs: Bool = false
    /// `LANTERN_FORWARD_LIFECYCLE`: forward each invocation's and SHUTDOWN's lifecycle facts to the APM Server.
    public var forwardLifecycle: Bool = true
    /// Skip the Telemetry API entirely (Elastic's `ELASTIC_APM_LAMBDA_DISABLE_LOGS_API`).
    public var telemetryDisabled: Bool = false
    public var verifyServerCert: Bool = true
    /// Extra CA certificates (PEM) to trust for the APM Server: those of `ELASTIC_APM_LAMBDA_SERVER_CA_CERT_PEM`
    /// followed by those of `ELASTIC_APM_SERVER_CA_CERT_FILE`.
    public var serverCACertPEM: String?
    /// The SQLite store; nil when the user switched it off with `LANTERN_DB=off`.
    public var storePath: String?
    /// How many log records the store keeps (the oldest are trimmed).
    public var logRetention: Int = 100_000
    /// The store's size bound in MB (`LANTERN_DB_MAX_MB`); nil = the default share of the store's file system
    /// (`StorePruner.defaultBound`), 0 = unbounded.
    public var storeMaxMB: Int?
    /// The name to register under: Lambda requires the executable's file name.
    public var extensionName: String
    /// `host:port` of the Lambda Extensions and Telemetry APIs.
    public var runtimeAPI: String?
    /// What Lambda tells every process about the function.
    public var function: FunctionEnvironment
    /// Things worth saying on stderr at start-up (unsupported or lenient values), never fatal.
    public var warnings: [String] = []

    public init(extensionName: String, function: FunctionEnvironment = FunctionEnvironment()) {
        self.extensionName = extensionName
        self.function = function
    }

    /// The auth header value sent to the APM Server: `ApiKey` wins over `Bearer` (as in Elastic's extension).
    public var authorization: String? {
        if let apiKey { return "ApiKey \(apiKey)" }
        if let secretToken { return "Bearer \(secretToken)" }
        return nil
    }
}

/// The function facts Lambda puts in the environment of every process.
public struct FunctionEnvironment: Sendable, Equatable {
    public var name: String?
    public var version: String?
    public var memoryMB: Int?
    public var region: String?
    public var runtime: String?
    public var logStream: String?
    /// True when a Lantern emulator started this process (it sets `LANTERN_EMULATOR`).
    public var emulated: Bool = false
    /// `AWS_LAMBDA_INITIALIZATION_TYPE` (`on-demand`, `provisioned-concurrency`, `snap-start`, `lambda-managed-instances`).
    public var initializationType: String?
    /// Classic Lambda or Managed Instances, from `AWS_LAMBDA_INITIALIZATION_TYPE` and `AWS_LAMBDA_MAX_CONCURRENCY`.
    public var mode: ExecutionMode = .classic

    public init() {}
}

/// A configuration value the collector cannot run with.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidNumber, invalidDuration, invalidBool, invalidChoice, invalidPort, unreadableFile, invalidURL
    }

    public var code: Code
    /// The variable that holds the bad value.
    public var variable: String
    public var message: String

    public var description: String { "\(variable): \(message)" }
}

extension CollectorConfig {
    /// Reads the configuration from `environment`; `arguments[0]` gives the default extension name.
    /// Throws the first bad value it meets, with the variable's name and what would be accepted.
    public static func load(
        environment: [String: String], arguments: [String] = CommandLine.arguments
    ) throws(ConfigError) -> CollectorConfig {
        let env = Environment(values: environment)
        let defaultName = arguments.first.map(Self.basename) ?? "lantern-extension"
        var config = CollectorConfig(
            extensionName: env.string("LANTERN_EXTENSION_NAME") ?? defaultName,
            function: FunctionEnvironment(environment: env))

        if let url = env.string("ELASTIC_APM_LAMBDA_APM_SERVER") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigError(code: .invalidURL, variable: "ELASTIC_APM_LAMBDA_APM_SERVER",
                                  message: "'\(URLRedaction.redacted(url))' is not an http:// or https:// URL")
            }
            config.apmServerURL = url.hasSuffix("/") ? url : url + "/"
        }
        config.secretToken = env.string("ELASTIC_APM_SECRET_TOKEN")
        config.apiKey = env.string("ELASTIC_APM_API_KEY")

        if let raw = env.string("ELASTIC_APM_SEND_STRATEGY") {
            guard let strategy = SendStrategy(rawValue: raw.lowercased()) else {
                throw ConfigError(code: .invalidChoice, variable: "ELASTIC_APM_SEND_STRATEGY",
                                  message: "'\(raw)' is neither 'syncflush' nor 'background'")
            }
            config.sendStrategy = strategy
        }

        if let port = try env.int("ELASTIC_APM_DATA_RECEIVER_SERVER_PORT") {
            guard (1...65535).contains(port) else {
                throw ConfigError(code: .invalidPort, variable: "ELASTIC_APM_DATA_RECEIVER_SERVER_PORT",
                                  message: "\(port) is not a TCP port (1-65535)")
            }
            config.receiverPort = port
        }
        if let timeout = try env.duration("ELASTIC_APM_DATA_RECEIVER_TIMEOUT",
                                           deprecatedSeconds: "ELASTIC_APM_DATA_RECEIVER_TIMEOUT_SECONDS") {
            config.receiverTimeout = timeout
        }
        if let timeout = try env.duration("ELASTIC_APM_DATA_FORWARDER_TIMEOUT",
                                           deprecatedSeconds: "ELASTIC_APM_DATA_FORWARDER_TIMEOUT_SECONDS") {
            config.forwarderTimeout = timeout
        }
        if let size = try env.int("ELASTIC_APM_LAMBDA_AGENT_DATA_BUFFER_SIZE") {
            guard size > 0 else {
                throw ConfigError(code: .invalidNumber, variable: "ELASTIC_APM_LAMBDA_AGENT_DATA_BUFFER_SIZE",
                                  message: "\(size) must be at least 1")
            }
            config.agentBufferSize = size
        }
        if let raw = env.string("ELASTIC_APM_LOG_LEVEL") {
            guard let level = Self.logLevel(raw) else {
                throw ConfigError(code: .invalidChoice, variable: "ELASTIC_APM_LOG_LEVEL",
                                  message: "'\(raw)' is not one of trace, debug, info, warn, warning, error, critical, off")
            }
            config.logLevel = level
        }
        if let capture = try env.bool("ELASTIC_APM_LAMBDA_CAPTURE_LOGS") { config.captureLogs = capture }
        if let capture = try env.bool("LANTERN_CAPTURE_EXTENSION_LOGS") { config.captureExtensionLogs = capture }
        if let forward = try env.bool("LANTERN_FORWARD_LIFECYCLE") { config.forwardLifecycle = forward }
        if let disabled = try env.bool("ELASTIC_APM_LAMBDA_DISABLE_LOGS_API") { config.telemetryDisabled = disabled }
        if let verify = try env.bool("ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT") { config.verifyServerCert = verify }
        if !config.verifyServerCert {
            // Said on every start: anyone on the path could read the data and the credentials.
            config.warnings.append("ELASTIC_APM_LAMBDA_VERIFY_SERVER_CERT=false: the APM Server's TLS certificate "
                + "is not verified; do not use this in production")
        }

        // Both sources, when both are set, add their CAs: one silently winning would leave a server untrusted.
        var caPEMs: [String] = []
        if let pem = env.string("ELASTIC_APM_LAMBDA_SERVER_CA_CERT_PEM") {
            // Elastic accepts PEM text with literal "\n" sequences (a single-line env value).
            caPEMs.append(pem.unescapingNewlines())
        }
        if let path = env.string("ELASTIC_APM_SERVER_CA_CERT_FILE") {
            guard let pem = TextFile.read(path) else {
                throw ConfigError(code: .unreadableFile, variable: "ELASTIC_APM_SERVER_CA_CERT_FILE",
                                  message: "cannot read '\(path)'")
            }
            caPEMs.append(pem)
        }
        // A PEM text may lack its last newline; the next BEGIN line must start a line of its own.
        if !caPEMs.isEmpty { config.serverCACertPEM = caPEMs.joined(separator: "\n") }
        for unsupported in [
            "ELASTIC_APM_SECRETS_MANAGER_SECRET_TOKEN_ID", "ELASTIC_APM_SECRETS_MANAGER_API_KEY_ID",
            "ELASTIC_APM_SERVER_CA_CERT_ACM_ID",
        ] where env.string(unsupported) != nil {
            config.warnings.append("\(unsupported) is not supported by Lantern (no AWS SDK); ignored")
        }

        switch env.string("LANTERN_DB") {
        case "off"?, "none"?: config.storePath = nil
        case let path?: config.storePath = path
        // In Lambda, /tmp (the only writable place); anywhere else, including Lantern's emulator, the working
        // directory: a fixed name in a shared /tmp would be another local user's to read or pre-create.
        case nil: config.storePath = config.function.name != nil && !config.function.emulated ? "/tmp/lantern.db" : "./lantern.db"
        }
        if let retention = try env.int("LANTERN_LOG_RETENTION") {
            guard retention >= 0 else {
                throw ConfigError(code: .invalidNumber, variable: "LANTERN_LOG_RETENTION",
                                  message: "\(retention) must be 0 or more log records")
            }
            config.logRetention = retention
        }
        if let raw = env.string("LANTERN_DB_MAX_MB") {
            if raw.lowercased() == "off" {
                config.storeMaxMB = 0
            } else {
                guard let megabytes = try env.int("LANTERN_DB_MAX_MB"), megabytes >= 0 else {
                    throw ConfigError(code: .invalidNumber, variable: "LANTERN_DB_MAX_MB",
                                      message: "'\(raw)' must be a whole number of MB (0 or off: no bound)")
                }
                config.storeMaxMB = megabytes
            }
        }
        config.runtimeAPI = env.string("AWS_LAMBDA_RUNTIME_API")
        return config
    }

    /// Elastic's level names (`trace` = debug in zap; we keep trace as trace).
    static func logLevel(_ raw: String) -> Logger.Level? {
        switch raw.lowercased() {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "warn", "warning": .warning
        case "error": .error
        case "critical", "fatal": .critical
        // swift-log has no "off"; critical is the quietest it gets.
        case "off": .critical
        default: nil
        }
    }

    static func basename(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

extension FunctionEnvironment {
    init(environment env: Environment) {
        name = env.string("AWS_LAMBDA_FUNCTION_NAME")
        version = env.string("AWS_LAMBDA_FUNCTION_VERSION")
        memoryMB = env.string("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").flatMap { Int($0) }
        region = env.string("AWS_REGION") ?? env.string("AWS_DEFAULT_REGION")
        runtime = env.string("AWS_EXECUTION_ENV")
        logStream = env.string("AWS_LAMBDA_LOG_STREAM_NAME")
        emulated = env.string("LANTERN_EMULATOR") != nil
        initializationType = env.string("AWS_LAMBDA_INITIALIZATION_TYPE")
        mode = ExecutionMode(initializationType: initializationType, maxConcurrency: env.string("AWS_LAMBDA_MAX_CONCURRENCY"))
    }
}

/// Typed reads of environment variables; empty values count as unset (Lambda consoles leave them empty).
struct Environment {
    var values: [String: String]

    func string(_ key: String) -> String? {
        guard let value = values[key], !value.isEmpty else { return nil }
        return value
    }

    func int(_ key: String) throws(ConfigError) -> Int? {
        guard let raw = string(key) else { return nil }
        guard let value = Int(raw.trimmingSpaces) else {
            throw ConfigError(code: .invalidNumber, variable: key, message: "'\(raw)' is not a whole number")
        }
        return value
    }

    /// Accepts exactly what Go's `strconv.ParseBool` accepts, as Elastic's extension does: no other spellings
    /// (`yes`, `on`, `tRUE`) and no surrounding spaces, so a value means the same to both extensions.
    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let raw = string(key) else { return nil }
        switch raw {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default:
            throw ConfigError(code: .invalidBool, variable: key,
                              message: "'\(raw)' is not a boolean (true, false, 1, 0, t, f, TRUE, FALSE, True, False)")
        }
    }

    /// A Go duration (`15s`, `1m30s`, `500ms`); the deprecated variable holds whole seconds.
    func duration(_ key: String, deprecatedSeconds: String) throws(ConfigError) -> Duration? {
        if let raw = string(key) {
            guard let value = GoDuration.parse(raw.trimmingSpaces), value > .zero else {
                throw ConfigError(code: .invalidDuration, variable: key,
                                  message: "'\(raw)' is not a positive duration such as 15s, 500ms or 1m30s")
            }
            return value
        }
        if let seconds = try int(deprecatedSeconds) {
            guard seconds > 0 else {
                throw ConfigError(code: .invalidDuration, variable: deprecatedSeconds,
                                  message: "\(seconds) must be a positive number of seconds")
            }
            return .seconds(seconds)
        }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
