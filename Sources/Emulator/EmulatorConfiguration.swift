import Foundation

/// Which replies the invoke endpoint gives: real Lambda's, or RIE's (for tools written against RIE).
public enum InvokeDialect: String, Sendable, CaseIterable {
    /// 200 plus `X-Amz-Function-Error: Unhandled` for function errors, timeouts and crashes; lowercase SHUTDOWN reasons.
    case lambda
    /// RIE's replies: 200 and plain text on timeout, 502 on a crash or init error; RIE's SHUTDOWN reasons.
    case rie
}

/// A `host:port` pair to listen on.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `:port` or `port`.
    public init(parsing text: String) throws(EmulatorError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let hostPart: Substring
        let portPart: Substring
        if let colon = trimmed.lastIndex(of: ":") {
            hostPart = trimmed[..<colon]
            portPart = trimmed[trimmed.index(after: colon)...]
        } else {
            hostPart = ""
            portPart = Substring(trimmed)
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw EmulatorError(.invalidConfiguration, "'\(text)' is not an address of the form host:port (port 0-65535)")
        }
        var host = String(hostPart)
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Everything `lantern emulate` needs to know about the function and the sandbox.
public struct EmulatorConfiguration: Sendable {
    /// The runtime's executable and its arguments (`python -m awslambdaric app.handler`).
    public var bootstrap: [String]
    /// Folders whose executable files are started as external extensions.
    public var extensionDirectories: [String] = []
    public var invokeAddress = ListenAddress(host: "127.0.0.1", port: 9000)
    public var apiAddress = ListenAddress(host: "127.0.0.1", port: 9001)
    /// The function timeout in seconds (fractions allowed here, for tests).
    public var timeoutSeconds: Double = 3
    public var memoryMB: Int = 128
    public var functionName = "test_function"
    public var functionVersion = "$LATEST"
    public var handler: String?
    public var region = "us-east-1"
    public var accountID = "012345678912"
    /// `LAMBDA_TASK_ROOT` for the runtime (and its working directory), if given.
    public var taskRoot: String?
    /// Initialise at start-up instead of on the first invoke.
    public var eagerInit = false
    public var dialect: InvokeDialect = .lambda
    /// Answer Telemetry and Logs API subscriptions as RIE does (202 Not Supported, nothing delivered).
    public var telemetryUnavailable = false
    /// Invokes that may wait while one runs; more get 429.
    public var maxQueue = 16
    /// Do not echo the children's output.
    public var quiet = false
    /// Where to write `{"invoke": ..., "api": ...}` once listening.
    public var readyFile: String?
    /// Init must finish within this many seconds (Lambda: 10).
    public var initTimeoutSeconds: Double = 10
    /// Who the runtime and the extensions run as; nil = the emulator's own user. `lantern emulate` started as root
    /// sets the sandbox user here (Lambda never runs them as root) unless `--keep-root`.
    public var sandboxUser: SandboxUser?
    /// Freeze the runtime and the extensions while they all wait in `next`, as Lambda does (`--no-freeze`: off).
    public var freeze = true
    /// On-demand (classic) or Lambda Managed Instances (`--max-concurrency N`).
    public var mode: SandboxMode = .onDemand
    /// The environment the children inherit (the emulator's own, by default).
    public var baseEnvironment: [String: String] = ProcessInfo.processInfo.environment

    public init(bootstrap: [String]) { self.bootstrap = bootstrap }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    public var functionARN: String { "arn:aws:lambda:\(region):\(accountID):function:\(functionName)" }

    /// Whether the sandbox freezes between invocations: never on Managed Instances, whatever `freeze` says.
    public var freezes: Bool { freeze && mode.mayFreeze }

    /// The timeout in milliseconds.
    public var timeoutMs: Int64 { Int64((timeoutSeconds * 1000).rounded()) }

    /// Checks the values a user can get wrong.
    public func validate() throws(EmulatorError) {
        guard let executable = bootstrap.first, !executable.isEmpty else {
            throw EmulatorError(.invalidConfiguration, "no bootstrap given: lantern emulate [options] -- BOOTSTRAP [ARGS...]")
        }
        guard timeoutSeconds > 0, timeoutSeconds <= 900 else {
            throw EmulatorError(.invalidConfiguration, "the timeout must be between 0 and 900 seconds, got \(timeoutSeconds)")
        }
        guard (128...10_240).contains(memoryMB) else {
            throw EmulatorError(.invalidConfiguration, "the memory size must be between 128 and 10240 MB, got \(memoryMB)")
        }
        guard maxQueue >= 0 else {
            throw EmulatorError(.invalidConfiguration, "--max-queue must be 0 or more, got \(maxQueue)")
        }
        if case .managedInstances(let n) = mode, !(1...1024).contains(n) {
            throw EmulatorError(.invalidConfiguration, "--max-concurrency must be between 1 and 1024, got \(n)")
        }
        guard !functionName.isEmpty else { throw EmulatorError(.invalidConfiguration, "the function name is empty") }
        for dir in extensionDirectories {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw EmulatorError(.invalidConfiguration, "extensions folder \(dir) does not exist or is not a folder")
            }
        }
    }
}
