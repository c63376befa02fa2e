import LambdaWire

/// How the emulated Lambda runs the environment, decided once from the configuration: classic on-demand (one invocation at a
/// time, frozen in between) or Lambda Managed Instances (up to `maxConcurrency` invocations at once, never frozen).
/// The rules that differ are data here, so the sandbox asks for a value instead of testing the mode everywhere.
public enum SandboxMode: Sendable, Equatable {
    case onDemand
    /// `--max-concurrency N` / `AWS_LAMBDA_MAX_CONCURRENCY=N` (as AWS's RIE).
    case managedInstances(maxConcurrency: Int)

    /// `AWS_LAMBDA_INITIALIZATION_TYPE` and `initializationType` in `platform.initStart`.
    var initializationType: InitializationType {
        switch self {
        case .onDemand: .onDemand
        case .managedInstances: .lambdaManagedInstances
        }
    }

    /// Invocations the environment serves at once.
    var maxConcurrency: Int {
        switch self {
        case .onDemand: 1
        case .managedInstances(let n): n
        }
    }

    /// Events an external extension may register for. On Managed Instances only SHUTDOWN (RIE's
    /// `ValidateExternalAgentEvent`): an INVOKE registration is refused and the extension fails init.
    var allowedExtensionEvents: Set<ExtensionEventType> {
        switch self {
        case .onDemand: [.invoke, .shutdown]
        case .managedInstances: [.shutdown]
        }
    }

    /// Telemetry API schema versions accepted (RIE-LMI's subscription schema allows only 2025-01-29).
    var telemetrySchemas: [String] {
        switch self {
        case .onDemand: TelemetryAPI.schemaVersions
        case .managedInstances: ["2025-01-29"]
        }
    }

    /// Whether the Logs API exists (Managed Instances have the Telemetry API only).
    var logsAPIAvailable: Bool { self == .onDemand }

    /// Whether the sandbox may freeze between invocations (Managed Instances never freeze).
    var mayFreeze: Bool { self == .onDemand }
}
